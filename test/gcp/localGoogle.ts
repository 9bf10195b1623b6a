// Keeps Google's client libraries on this machine in tests:
// - localTransporter(): the HTTP client google-auth-library is given (loadAdc's `transporter`). Google's token
//   endpoints (oauth2, sts, iamcredentials) go to the test token server, whose URL a service account key or a user's
//   ADC file cannot name (google-auth-library sends those to oauth2.googleapis.com whatever `token_uri` says); any
//   other address that is not loopback is refused with an error naming it.
// - watchConnections(): records every TCP connection and DNS lookup the process makes (node:net's diagnostics
//   channel, which fetch, http, https and grpc-js all go through), so a test can assert all of them stayed local.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { gaxios } from 'google-auth-library';

const REDIRECTED = new Map([
  ['oauth2.googleapis.com', ''],
  ['www.googleapis.com', ''],
  ['accounts.google.com', ''],
  ['sts.googleapis.com', ''],
  ['iamcredentials.googleapis.com', ''],
]);

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Requests the transporter refused, for tests that check nothing tried to leave. */
export interface LocalTransporter extends gaxios.Gaxios {
  refused: string[];
}

export function localTransporter(tokenServerUrl: string): LocalTransporter {
  const transporter = new gaxios.Gaxios() as LocalTransporter;
  transporter.refused = [];
  const local = new URL(tokenServerUrl);
  transporter.interceptors.request.add({
    resolved: async (config) => {
      const url = new URL(String(config.url));
      if (REDIRECTED.has(url.hostname)) {
        // www.googleapis.com/oauth2/v4/token is the old token path: the token server serves it as /token.
        const pathname = url.pathname.replace(/^\/oauth2\/v\d\//, '/');
        // gaxios prepares `url` as a URL object, and its error redactor relies on that.
        config.url = new URL(`${pathname}${url.search}`, local);
        return config;
      }
      if (!isLoopback(url.hostname)) {
        transporter.refused.push(url.origin);
        throw new Error(`test equipment refused a request to ${url.origin}: tests reach Google only through the local fakes and token server`);
      }
      return config;
    },
  });
  return transporter;
}

export interface ConnectionWatch {
  /** "connect HOST:PORT" and "lookup NAME" entries, in order. */
  events: string[];
  /** The entries that were not loopback. */
  offMachine(): string[];
  stop(): void;
}

export function watchConnections(): ConnectionWatch {
  const events: string[] = [];
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.once('lookup', (_err: Error | null, address: string, _family: unknown, host: string) => events.push(`lookup ${host} -> ${String(address)}`));
    socket.once('connect', () => events.push(`connect ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`));
  };
  diagnosticsChannel.subscribe('net.client.socket', onSocket);
  return {
    events,
    offMachine: () =>
      events.filter((e) => {
        const connect = /^connect (.+):\d+$/.exec(e);
        if (connect) return !isLoopback(connect[1]);
        const lookup = /^lookup (\S+)/.exec(e);
        return lookup ? !isLoopback(lookup[1]) : false;
      }),
    stop: () => diagnosticsChannel.unsubscribe('net.client.socket', onSocket),
  };
}
