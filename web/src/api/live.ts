// Live search: every provider asked at once, the answers streamed as server-sent events.

import { useEffect, useState } from "react";
import { API_BASE, ApiProblem, publicApi, unwrap } from "./client";
import type { LiveSearchBody, LiveSearchResponse } from "./types";
import { applyAnswer, NO_RESULTS, type LiveResults } from "@/lib/live";

export function startLiveSearch(body: LiveSearchBody, signal?: AbortSignal): Promise<LiveSearchResponse> {
  return unwrap(publicApi.POST("/api/v1/live-searches", { body, signal }));
}

export function pollLiveSearch(id: string, after: number): Promise<LiveSearchResponse> {
  return unwrap(publicApi.GET("/api/v1/live-searches/{id}", { params: { path: { id }, query: { after } } }));
}

/**
 * The live search for `body` (none while it is null), as it streams in. The stream resumes
 * by itself after a dropped connection (the browser sends the last event's id); where event
 * streams cannot be used, the answers are polled instead.
 */
export function useLiveSearch(body: LiveSearchBody | null): LiveResults {
  const [results, setResults] = useState<LiveResults>(NO_RESULTS);
  const key = body ? JSON.stringify(body) : "";
  useEffect(() => {
    if (!key) {
      setResults(NO_RESULTS);
      return;
    }
    const abort = new AbortController();
    let stream: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cursor = 0;
    let done = false;
    const take = (a: LiveSearchResponse) => {
      cursor = Math.max(cursor, a.cursor);
      done = a.status === "complete";
      setResults((r) => applyAnswer(r, a));
    };
    const poll = (id: string) => {
      timer = setTimeout(async () => {
        try {
          take(await pollLiveSearch(id, cursor));
        } catch (e) {
          if ((e as Error).name === "AbortError") return;
          if (e instanceof ApiProblem && e.status === 404) {
            setResults((r) => ({ ...r, status: "failed", error: "These live prices have expired; search again." }));
            return;
          }
        }
        if (!done && !abort.signal.aborted) poll(id);
      }, 500);
    };
    setResults({ ...NO_RESULTS, status: "starting" });
    startLiveSearch(JSON.parse(key) as LiveSearchBody, abort.signal)
      .then((first) => {
        if (abort.signal.aborted) return;
        take(first);
        if (done) return;
        if (typeof EventSource === "undefined") {
          poll(first.id);
          return;
        }
        stream = new EventSource(`${API_BASE}/api/v1/live-searches/${first.id}/events?after=${first.cursor}`);
        const onAnswer = (e: MessageEvent<string>) => {
          take(JSON.parse(e.data) as LiveSearchResponse);
          if (done) stream?.close();
        };
        stream.addEventListener("update", onAnswer);
        stream.addEventListener("complete", onAnswer);
        stream.onerror = () => {
          // The browser reconnects by itself unless the stream is closed for good (or has
          // nothing more to send after the last event): then poll what is left.
          if (stream?.readyState === EventSource.CLOSED && !done) poll(first.id);
          else if (done) stream?.close();
        };
      })
      .catch((e: unknown) => {
        if ((e as Error).name === "AbortError") return;
        setResults({ ...NO_RESULTS, status: "failed", error: e instanceof Error ? e.message : String(e) });
      });
    return () => {
      abort.abort();
      stream?.close();
      clearTimeout(timer);
    };
  }, [key]);
  return results;
}
