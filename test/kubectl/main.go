// kubectl for the tests that need a current one (plugin completion needs 1.26 or later; Debian
// ships 1.20): the upstream command tree, built from the Go module proxy by build.sh.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	os.Exit(cli.Run(cmd.NewDefaultKubectlCommand()))
}
