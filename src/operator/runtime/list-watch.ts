// client-node's ListWatch, with what an operator watching hundreds of objects needs and
// makeInformer does not give: watches that ask for bookmarks, paginated lists, and a transform
// that trims each object before anything caches it.
import { ListWatch, Watch } from '@kubernetes/client-node';
import type {
  Informer,
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  ListPromise,
} from '@kubernetes/client-node';
import { statusCode } from './kube-errors.js';

/** Objects per page of an informer's list: a large cluster is listed in bounded responses. */
export const LIST_PAGE_SIZE = 500;

export interface ListWatchHooks<T extends KubernetesObject> {
  /** A BOOKMARK arrived: the watch is alive, though nothing changed. */
  onBookmark?(): void;
  /** Applied to every watched object before ListWatch caches it or hands it on (`list` trims its own). */
  transform?(obj: T): T;
}

/**
 * A ListWatch whose watches request bookmarks (allowWatchBookmarks). A BOOKMARK carries only a
 * resourceVersion: ListWatch records it, so a watch that drops resumes from there instead of
 * relisting, and it is never reported as a change. `list` is expected to be paginated (see
 * `paginate`).
 */
export function makeListWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: ListPromise<T>,
  labelSelector: string | undefined,
  hooks: ListWatchHooks<T> = {},
): Informer<T> {
  const watch = new Watch(kc);
  const trim = hooks.transform;
  const bookmarked = {
    watch: (
      watchPath: string,
      query: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, obj: T, raw?: unknown) => void,
      done: (err: unknown) => void,
    ) =>
      watch.watch(
        watchPath,
        { ...query, allowWatchBookmarks: true },
        (phase: string, obj: T, raw?: unknown) => {
          if (phase === 'BOOKMARK') hooks.onBookmark?.();
          const object = trim && phase !== 'BOOKMARK' && phase !== 'ERROR' ? trim(obj) : obj;
          callback(phase, object, raw);
        },
        done,
      ),
  } as Watch;
  return new ListWatch<T>(path, bookmarked, list, false, labelSelector);
}

/**
 * The token of the next page. Typed lists (Jobs, Pods) come deserialized, with `_continue`;
 * custom objects (Studies, Trials, JobSets) come as the apiserver's JSON, with `continue`.
 */
function continueToken(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const meta = list.metadata as { _continue?: string; continue?: string } | undefined;
  return meta?._continue || meta?.continue || undefined;
}

/**
 * Lists in pages of LIST_PAGE_SIZE (limit + continue); the pages are one snapshot, at the
 * resourceVersion the result carries. A continue token that expired (410) while paging falls
 * back to one unpaginated list, as client-go's pager does.
 */
export async function paginate<T extends KubernetesObject>(
  page: (opts: { limit?: number; _continue?: string }) => Promise<KubernetesListObject<T>>,
): Promise<KubernetesListObject<T>> {
  const first = await page({ limit: LIST_PAGE_SIZE });
  const items = [...first.items];
  let token = continueToken(first);
  while (token) {
    let next: KubernetesListObject<T>;
    try {
      next = await page({ limit: LIST_PAGE_SIZE, _continue: token });
    } catch (err) {
      if (statusCode(err) === 410) return page({});
      throw err;
    }
    items.push(...next.items);
    token = continueToken(next);
  }
  const { _continue: _done, continue: _raw, ...metadata } = (first.metadata ?? {}) as Record<string, unknown>;
  return { ...first, metadata, items };
}
