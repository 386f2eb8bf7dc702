import type { InboxEvent, InboxEventRef } from '../core/inbox.js';
import type { Store } from '../core/store.js';

/**
 * Gives a store that cannot announce inbox events itself (SQLite, where one process does all the
 * work) an `onInboxEvents`: the events its writes return are published to this process's
 * listeners once committed. A store that announces them (PostgreSQL NOTIFY, heard by every
 * process including this one) is returned as it is.
 */
export function withLocalInboxEvents(store: Store): Store {
  if (store.onInboxEvents) return store;
  const listeners: ((event: InboxEvent | InboxEventRef | undefined) => void)[] = [];
  const publish = (events: readonly (InboxEvent | null)[]) => {
    for (const event of events) {
      if (event) for (const listener of listeners) listener(event);
    }
  };
  return {
    ...store,
    onInboxEvents(listener) {
      listeners.push(listener);
    },
    async completeJobs(completions) {
      const events = await store.completeJobs(completions);
      publish(events);
      return events;
    },
    async changeInboxItem(...args: Parameters<Store['changeInboxItem']>) {
      const result = await store.changeInboxItem(...args);
      if (result) publish([result.event]);
      return result;
    },
    async changeAllInboxItems(...args: Parameters<Store['changeAllInboxItems']>) {
      const result = await store.changeAllInboxItems(...args);
      publish([result.event]);
      return result;
    },
  };
}
