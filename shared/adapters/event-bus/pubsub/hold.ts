import { v1, type PubSub } from '@google-cloud/pubsub';
import { toBusError, isNotFound } from './topology.js';

/**
 * Reading a dead-letter topic's hold subscription (`<topic>-dead-letter-hold`, see holdSubscription) without
 * consuming it: messages are pulled, copied, then released at once (ack deadline 0) so they stay held for the next
 * reader and for the alert on its backlog. `take` acknowledges one message, by id, once it has been replayed.
 */
export interface HeldMessage {
  subscription: string;
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date;
}

type Pulled = { ackId: string; message: HeldMessage };

export class HoldReader {
  private readonly sub: v1.SubscriberClient;

  constructor(private readonly client: PubSub, private readonly where: string) {
    // The high-level client has no synchronous pull; the generated client shares its endpoint and credentials.
    this.sub = new v1.SubscriberClient(client.options as ConstructorParameters<typeof v1.SubscriberClient>[0]);
  }

  /** Every message held on `subscription` (up to `max`); [] when the subscription does not exist. */
  async peek(subscription: string, max = 1000): Promise<HeldMessage[]> {
    const pulled = await this.pullAll(subscription, max, () => false);
    await this.release(subscription, pulled.map((p) => p.ackId));
    return pulled.map((p) => p.message);
  }

  /** Acknowledge the held message `messageId` after `use` succeeded with it; false when it is not held. */
  async take(subscription: string, messageId: string, use: (m: HeldMessage) => Promise<void>): Promise<boolean> {
    const pulled = await this.pullAll(subscription, 10_000, (m) => m.messageId === messageId);
    const found = pulled.find((p) => p.message.messageId === messageId);
    const others = pulled.filter((p) => p !== found).map((p) => p.ackId);
    try {
      if (!found) return false;
      await use(found.message);
      await this.sub.acknowledge({ subscription: this.path(subscription), ackIds: [found.ackId] });
      return true;
    } catch (err) {
      if (found) others.push(found.ackId);
      throw err;
    } finally {
      await this.release(subscription, others);
    }
  }

  async close(): Promise<void> {
    await this.sub.close();
  }

  private path(subscription: string): string {
    return `projects/${this.client.projectId}/subscriptions/${subscription}`;
  }

  private async pullAll(subscription: string, max: number, stop: (m: HeldMessage) => boolean): Promise<Pulled[]> {
    const out: Pulled[] = [];
    try {
      while (out.length < max) {
        const [res] = await this.sub.pull({ subscription: this.path(subscription), maxMessages: Math.min(100, max - out.length), returnImmediately: true });
        const got = (res.receivedMessages ?? []).map((r): Pulled => ({
          ackId: r.ackId!,
          message: {
            subscription,
            messageId: r.message?.messageId ?? '',
            data: Buffer.from(r.message?.data ?? new Uint8Array()),
            attributes: { ...(r.message?.attributes ?? {}) },
            publishTime: new Date(Number(r.message?.publishTime?.seconds ?? 0) * 1000 + Math.floor((r.message?.publishTime?.nanos ?? 0) / 1e6)),
          },
        }));
        out.push(...got);
        if (got.length === 0 || got.some((p) => stop(p.message))) break;
      }
    } catch (err) {
      await this.release(subscription, out.map((p) => p.ackId)).catch(() => undefined);
      if (isNotFound(err)) return [];
      throw toBusError(err, `reading dead letters from ${subscription}`, this.where);
    }
    return out;
  }

  private async release(subscription: string, ackIds: string[]): Promise<void> {
    for (let i = 0; i < ackIds.length; i += 500) {
      await this.sub.modifyAckDeadline({ subscription: this.path(subscription), ackIds: ackIds.slice(i, i + 500), ackDeadlineSeconds: 0 });
    }
  }
}
