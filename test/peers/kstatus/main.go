// kstatus-peer: the Go original (sigs.k8s.io/cli-utils/pkg/kstatus/status) as a test peer for
// fathom's src/status. Reads one JSON object per line on stdin and writes one JSON line per
// object: {"status","message","conditions"} from status.Compute, {"error"} when Compute fails,
// {"panic"} when it panics, {"decodeError"} when the line is not a JSON object.
//
// With --bench N it decodes every line once, then computes every object N times and prints one
// JSON line of timings (ns per object) and its own peak RSS.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type output struct {
	Status      string      `json:"status,omitempty"`
	Message     *string     `json:"message,omitempty"`
	Conditions  []condition `json:"conditions,omitempty"`
	Error       string      `json:"error,omitempty"`
	Panic       string      `json:"panic,omitempty"`
	DecodeError string      `json:"decodeError,omitempty"`
}

// decode reads a line the way kubectl reads an object: integers become int64, other numbers float64.
func decode(line []byte) (*unstructured.Unstructured, error) {
	m := map[string]any{}
	if err := utiljson.Unmarshal(line, &m); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func compute(u *unstructured.Unstructured) (out output) {
	defer func() {
		if r := recover(); r != nil {
			out = output{Panic: fmt.Sprint(r)}
		}
	}()
	res, err := status.Compute(u)
	if err != nil {
		return output{Error: err.Error()}
	}
	msg := res.Message
	out = output{Status: string(res.Status), Message: &msg, Conditions: []condition{}}
	for _, c := range res.Conditions {
		out.Conditions = append(out.Conditions, condition{
			Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message,
		})
	}
	return out
}

// lines yields each non-empty line of r (no length limit, unlike bufio.Scanner).
func lines(r io.Reader, each func([]byte)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			if len(line) > 0 {
				each(line)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func serve(in io.Reader, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := lines(in, func(line []byte) {
		u, err := decode(line)
		var out output
		if err != nil {
			out = output{DecodeError: err.Error()}
		} else {
			out = compute(u)
		}
		if e := enc.Encode(out); e != nil {
			panic(e)
		}
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func bench(in io.Reader, w io.Writer, reps int) error {
	start := time.Now()
	var objects []*unstructured.Unstructured
	if err := lines(in, func(line []byte) {
		u, err := decode(line)
		if err != nil {
			panic(fmt.Errorf("decode: %w", err))
		}
		objects = append(objects, u)
	}); err != nil {
		return err
	}
	decodeNs := time.Since(start).Nanoseconds()
	if len(objects) == 0 {
		return fmt.Errorf("no objects on stdin")
	}
	counts := map[string]int{}
	var computeNs []int64
	for r := 0; r < reps; r++ {
		t := time.Now()
		for _, u := range objects {
			res, err := status.Compute(u)
			if err != nil {
				counts["error"]++
			} else {
				counts[string(res.Status)]++
			}
		}
		computeNs = append(computeNs, time.Since(t).Nanoseconds())
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	perObject := make([]float64, len(computeNs))
	for i, ns := range computeNs {
		perObject[i] = float64(ns) / float64(len(objects))
	}
	return json.NewEncoder(w).Encode(map[string]any{
		"objects":            len(objects),
		"reps":               reps,
		"decodeNsPerObject":  float64(decodeNs) / float64(len(objects)),
		"computeNsPerObject": perObject,
		"counts":             counts,
		"maxRssKiB":          ru.Maxrss, // KiB on Linux
	})
}

func main() {
	reps := flag.Int("bench", 0, "decode stdin once, compute every object N times, print timings")
	flag.Parse()
	var err error
	if *reps > 0 {
		err = bench(os.Stdin, os.Stdout, *reps)
	} else {
		err = serve(os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-peer:", err)
		os.Exit(1)
	}
}
