// Which Docker daemon a host URI reaches. Its own module because the policy pack needs it too:
// npm run policy:sync copies it into policy/shared without the config validator around it.

/** The daemon a Docker host URI reaches: the socket path, or the ssh host and port (any user). */
export function dockerDaemonKey(dockerHost: string): string {
  const ssh = /^ssh:\/\/[^@]+@([^:/]+)(?::(\d+))?$/.exec(dockerHost);
  return ssh ? `ssh ${ssh[1].toLowerCase()}:${ssh[2] ?? "22"}` : dockerHost;
}
