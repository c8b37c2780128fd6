// A minimal Redis client for the commands that must not depend on redis-cli's output format or on
// a client library's reconnect logic: one connection per command, one reply, a hard timeout.
// `npm run restore` uses it to probe a node's port and to drive its scratch server over a socket.
import * as net from "node:net";

/** An error reply (`-ERR ...`, `-NOAUTH ...`): still a reply, so the server answered. */
export class RespErrorReply {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | null | RespErrorReply | RespValue[];

/** The command as Redis reads it: an array of bulk strings. */
export function encodeCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`, ...args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`)];
  return Buffer.from(parts.join(""));
}

/** One reply from the start of `buffer`; undefined while it is incomplete. */
export function parseReply(buffer: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next };
    case "-":
      return { value: new RespErrorReply(line), next };
    case ":":
      return { value: Number(line), next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString("utf8", next, next + length), next: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`not a RESP reply (starts with ${JSON.stringify(buffer.toString("latin1", offset, offset + 16))})`);
  }
}

export type RespTarget = { path: string } | { host: string; port: number };

function describeTarget(target: RespTarget): string {
  return "path" in target ? target.path : `${target.host}:${target.port}`;
}

/**
 * Sends one command on a new connection and resolves with its reply. Rejects when nothing listens
 * (the error's `code`: ECONNREFUSED, ENOENT), after `timeoutMs` with code "ETIMEDOUT" (no
 * connection) or "ENOREPLY" (connected, no reply), and with "ECONNRESET" on a hang-up.
 */
export function respCommand(target: RespTarget, args: string[], timeoutMs = 2000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(target);
    let received = Buffer.alloc(0);
    let connected = false;
    const finish = (error: Error | undefined, value?: RespValue) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value as RespValue);
    };
    const timer = setTimeout(
      () =>
        finish(
          connected
            ? Object.assign(new Error(`${describeTarget(target)}: no reply to ${args[0]} within ${timeoutMs} ms`), { code: "ENOREPLY" })
            : Object.assign(new Error(`${describeTarget(target)}: no connection within ${timeoutMs} ms`), { code: "ETIMEDOUT" }),
        ),
      timeoutMs,
    );
    socket.once("connect", () => {
      connected = true;
      socket.write(encodeCommand(args));
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const reply = parseReply(received);
        if (reply) finish(undefined, reply.value);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.once("error", (error) => finish(error));
    socket.once("close", () => finish(Object.assign(new Error(`${describeTarget(target)}: closed the connection before replying to ${args[0]}`), { code: "ECONNRESET" })));
  });
}

export type Probe =
  | { state: "closed"; detail: string }
  /** Something accepted the connection: a server that replied, or one that stayed silent. */
  | { state: "answered"; reply: string }
  | { state: "silent" };

/** Whether a server listens at host:port: PING over TCP, any reply (NOAUTH included) counts. */
export async function probeServer(host: string, port: number, timeoutMs = 2000): Promise<Probe> {
  try {
    const reply = await respCommand({ host, port }, ["PING"], timeoutMs);
    return { state: "answered", reply: reply instanceof RespErrorReply ? reply.message : String(reply) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Connected, then no reply or a hang-up: something holds the port all the same.
    if (code === "ENOREPLY" || code === "ECONNRESET") return { state: "silent" };
    return { state: "closed", detail: code ?? (error as Error).message };
  }
}
