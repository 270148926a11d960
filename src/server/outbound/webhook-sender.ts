// Owns what the delivery and replay loops share about sending to a configured webhook: one kept-alive
// sender per configuration, the endpoint settings of either target mode, and an attempt's outcome.

import type { AttemptOutcome } from '../../core/delivery-plan.js'
import type { ConfiguredWebhook, EndpointSettings } from '../../store/store.js'
import type { ResolveHostname } from './endpoint-policy.js'
import type { AttemptResult } from './sender.js'
import { EndpointSender } from './sender.js'

export interface WebhookSenderOptions {
  readonly allowInsecureEndpoints: boolean
  /** Each attempt's budget (SPEC.md §6.2, 15 s); tests shorten it. */
  readonly attemptTimeoutMs?: number
  /** Replaces the system resolver (tests). */
  readonly resolve?: ResolveHostname
}

/** One sender per configuration, so its kept-alive connection follows the target; each loop keeps its own. */
export class WebhookSender {
  private sender: EndpointSender | null = null

  constructor(private readonly options: WebhookSenderOptions) {}

  /** The sender for `settings`, opened on first use after a reset. */
  for(settings: EndpointSettings): EndpointSender {
    const { allowInsecureEndpoints, attemptTimeoutMs, resolve } = this.options
    this.sender ??= new EndpointSender(
      {
        url: settings.endpoint,
        authorization: settings.authorization,
        skipSslVerification: settings.skipSslVerification,
      },
      {
        allowInsecure: allowInsecureEndpoints,
        ...(attemptTimeoutMs === undefined ? {} : { timeoutMs: attemptTimeoutMs }),
        ...(resolve === undefined ? {} : { resolve }),
      },
    )
    return this.sender
  }

  /** The configuration changed: closes the current sender without waiting; the next attempt opens a new one. */
  reset(): void {
    void this.sender?.close()
    this.sender = null
  }

  /** The loop ended: closes the current sender. */
  async close(): Promise<void> {
    await this.sender?.close()
  }
}

export function settingsOf(webhook: ConfiguredWebhook): EndpointSettings {
  return webhook.target.mode === 'inline' ? webhook.target.settings : webhook.target.destination
}

export function outcomeOf(result: AttemptResult): AttemptOutcome {
  return { statusCode: result.statusCode, refusedByPolicy: result.failure === 'policy', retryAfter: result.retryAfter }
}
