import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ArrivedMail {
  heraldMessageId: string;
  messageIdHeader: string;
}

export interface ParkingSmtpSinkOptions {
  /**
   * Whether to park a message: read it in full, then leave it unanswered, so the send stays in
   * flight in Herald until `release()` or until the client gives up. `arrival` counts messages
   * from 1. Default: park every message until `release()`.
   */
  park?: (arrival: number) => boolean;
  /** As in SmtpSinkOptions: an SMTP error for this attempt, or undefined to accept. */
  reject?: (heraldMessageId: string, attempt: number) => { code: number; message: string } | undefined;
}

export interface ParkingSmtpSink {
  url: string;
  /** Every message read in full, parked, refused or accepted, in arrival order. */
  arrived: ArrivedMail[];
  /** X-Herald-Message-Id of every message answered 250, in order. */
  accepted: string[];
  /** Answers the parked messages whose client is still connected, and parks nothing more. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 that can hold messages unanswered, for tests of sends in flight
 * (timeouts, shutdown). startSmtpSink cannot do this: its hook answers synchronously.
 */
export async function startParkingSmtpSink(options: ParkingSmtpSinkOptions = {}): Promise<ParkingSmtpSink> {
  const park = options.park ?? (() => true);
  const arrived: ArrivedMail[] = [];
  const accepted: string[] = [];
  const attempts = new Map<string, number>();
  const closedSessions = new Set<string>();
  let parking = true;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1000,
    onData(stream, session, callback) {
      simpleParser(stream).then(async (mail) => {
        const heraldMessageId = String(mail.headers.get('x-herald-message-id') ?? '');
        arrived.push({ heraldMessageId, messageIdHeader: mail.messageId ?? '' });
        const attempt = (attempts.get(heraldMessageId) ?? 0) + 1;
        attempts.set(heraldMessageId, attempt);
        if (parking && park(arrived.length)) await released;
        // A client that gave up while its message was parked is gone: that message was not delivered.
        if (closedSessions.has(session.id)) return;
        const rejection = options.reject?.(heraldMessageId, attempt);
        if (rejection) {
          callback(Object.assign(new Error(rejection.message), { responseCode: rejection.code }));
          return;
        }
        accepted.push(heraldMessageId);
        callback();
      }, callback);
    },
    onClose(session) {
      closedSessions.add(session.id);
    },
  });
  server.on('error', () => undefined); // clients killed or aborting mid-session reset their sockets
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    arrived,
    accepted,
    release() {
      parking = false;
      release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        release();
        server.close(() => resolve());
      }),
  };
}
