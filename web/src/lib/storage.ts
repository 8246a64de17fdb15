/** This browser's localStorage, or null (server rendering, or storage refused). */
export function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}
