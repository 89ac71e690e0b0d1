/**
 * The settings of one instance of each check type, as written in a check config (snake_case,
 * as Datadog instances are) and as the runners read them after validation. The config loader
 * owns the schemas that produce these; the runners in `run/` consume them.
 */

export interface HttpInstance {
  readonly url: string;
  /** Default GET. */
  readonly method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'PATCH';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Statuses that are ok; default 200–399. */
  readonly expect_status?: readonly number[];
  /** The body (its first MiB) must match; critical otherwise. */
  readonly body_regex?: string;
  /** Default true; false accepts any certificate (still reports its days left). */
  readonly tls_verify?: boolean;
  /** A PEM file of extra CAs to trust. */
  readonly ca_file?: string;
  /** Certificate days left at or under which the run is warning (default 14) / critical (7). */
  readonly cert_days_warning?: number;
  readonly cert_days_critical?: number;
  /** Latency above which an otherwise ok run is warning. */
  readonly latency_warning_ms?: number;
}

export interface TcpInstance {
  readonly host: string;
  readonly port: number;
  readonly latency_warning_ms?: number;
}

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'SRV' | 'TXT';

export interface DnsInstance {
  /** The name to resolve. */
  readonly name: string;
  /** Default A. */
  readonly record_type?: DnsRecordType;
  /** `host` or `host:port` of the server to ask; default the system's resolvers. */
  readonly server?: string;
  /** Answers that must all be among those returned (critical otherwise). */
  readonly expect?: readonly string[];
}

/**
 * A command run without a shell. Its exit code is read as a Nagios plugin's: 0 ok, 1 warning,
 * 2 critical, anything else unknown.
 */
export interface CommandInstance {
  readonly command: readonly [string, ...string[]];
  readonly env?: Readonly<Record<string, string>>;
  /** Output (stdout and stderr) kept per run; default 64 KiB, the rest counted and dropped. */
  readonly max_output_bytes?: number;
  /** The output must match, critical otherwise. */
  readonly output_regex?: string;
}

/** An object's readiness through fathom's status engine (kstatus rules). */
export interface KubernetesStatusInstance {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** A Sonobuoy-format plugin run on the node on the check's interval; its last results are kept. */
export interface PluginInstance {
  /** A plugin definition file. */
  readonly plugin: string;
}
