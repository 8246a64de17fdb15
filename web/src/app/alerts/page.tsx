"use client";

import { useState } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiProblem } from "@/api/client";
import {
  createWebhook,
  definitionOf,
  deleteAlert,
  deleteWebhook,
  fetchAlerts,
  fetchDeliveries,
  fetchWebhooks,
  pauseAlert,
  replaceAlert,
  testWebhook,
  type AlertView,
  type WebhookView,
} from "@/api/prices";
import { useSession } from "@/lib/session";
import { currencyDigits, formatDay, formatDuration, formatMoney, formatMonth } from "@/lib/format";
import { usePlaceName } from "@/api/places";
import { Alert, Card, FieldError, buttonClass, inputClass, secondaryButtonClass } from "@/components/Field";

function message(e: unknown, fallback: string): string {
  return e instanceof ApiProblem ? e.message : fallback;
}

/** An amount given as a decimal string ("107.99"), written for people ("€107.99"). */
function money(amount: string, currency: string): string {
  return formatMoney(Math.round(Number(amount) * 10 ** currencyDigits(currency)), currency);
}

/** What an alert watches, in words: places by name, dates as days, amounts as money. */
function describeAlert(a: AlertView, from: string, to: string): string {
  const hours = (m: number) => formatDuration(m);
  const where = a.destination ? `${from} → ${to}` : `${from} → anywhere ${hours(a.flight_minutes?.min ?? 0)}–${hours(a.flight_minutes?.max ?? 0)} of flying`;
  const d = a.dates;
  const when =
    d.type === "fixed"
      ? `${formatDay(d.departure)}${d.return ? ` – ${formatDay(d.return)}` : ", one way"}`
      : d.type === "flexible"
        ? `${formatDay(d.departure)} ±${d.days} days${d.return ? ` – ${formatDay(d.return)}` : ""}`
        : d.type === "range"
          ? `any day ${formatDay(d.from)} – ${formatDay(d.to)}${d.nights ? `, ${d.nights.min}–${d.nights.max} nights` : ""}`
          : `any day in ${formatMonth(d.month)}${d.nights ? `, ${d.nights.min}–${d.nights.max} nights` : ""}`;
  const n = a.notify;
  const currency = a.currency ?? "EUR";
  const rule = n.when === "below" ? `below ${money(n.amount, currency)}` : `each new low ${n.percent ? `${n.percent} %` : money(n.amount ?? "0", currency)} under the last`;
  return `${where} · ${when} · ${rule}`;
}

function AlertRow({ a }: { a: AlertView }) {
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [amount, setAmount] = useState(a.notify.when === "below" ? a.notify.amount : "");
  const refresh = () => client.invalidateQueries({ queryKey: ["alerts"] });
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      await refresh();
    } catch (e) {
      setError(message(e, "That did not work."));
    }
  };
  const save = (e: React.FormEvent) => {
    e.preventDefault();
    act(async () => {
      await replaceAlert(a.id, { ...definitionOf(a), notify: { when: "below", amount } });
      setEditing(false);
    });
  };
  const from = usePlaceName(a.origin).label;
  const to = usePlaceName(a.destination ?? "").label;
  const title = describeAlert(a, from, to);
  const last = a.last_notification;
  return (
    <li className="space-y-2 border-b border-slate-200 py-3 last:border-0" data-testid="alert">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <p className="font-medium">{title}</p>
          <p className="text-sm text-slate-700">
            {a.paused ? <span className="font-semibold text-amber-800">Paused · </span> : a.expired ? "Over · " : null}
            {a.price_now ? `Lowest now ${money(a.price_now.amount, a.price_now.currency)}` : "Nothing on sale seen yet"}
            {last ? ` · last told ${last.price ? money(last.price, a.currency ?? "EUR") : ""} (${last.status})` : " · nothing told yet"}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <button type="button" className={secondaryButtonClass} onClick={() => act(() => pauseAlert(a.id, !a.paused))} aria-label={`${a.paused ? "Resume" : "Pause"} ${title}`}>
            {a.paused ? "Resume" : "Pause"}
          </button>
          <button type="button" className={secondaryButtonClass} onClick={() => setEditing((x) => !x)} aria-expanded={editing} aria-label={`Edit ${title}`}>
            Edit
          </button>
          <button type="button" className={secondaryButtonClass} onClick={() => act(() => deleteAlert(a.id))} aria-label={`Delete ${title}`}>
            Delete
          </button>
        </div>
      </div>
      {editing ? (
        <form onSubmit={save} className="flex flex-wrap items-end gap-2">
          <label className="text-sm">
            Tell me when it is below ({a.currency})
            <input className={`${inputClass} w-32`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} required />
          </label>
          <button type="submit" className={buttonClass}>
            Save
          </button>
        </form>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
    </li>
  );
}

function Deliveries({ hook }: { hook: WebhookView }) {
  const { data } = useQuery({ queryKey: ["deliveries", hook.id], queryFn: () => fetchDeliveries(hook.id), refetchInterval: 2_000 });
  const list = data?.deliveries ?? [];
  if (list.length === 0) return <p className="text-sm text-slate-700">No deliveries yet.</p>;
  return (
    <table className="w-full text-left text-sm">
      <caption className="sr-only">Deliveries to {hook.url}</caption>
      <thead>
        <tr>
          <th scope="col">What</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last error</th>
        </tr>
      </thead>
      <tbody>
        {list.slice(0, 10).map((d) => (
          <tr key={d.id} data-testid="delivery">
            <td>{d.subject ?? "—"}</td>
            <td>{d.status}</td>
            <td>{d.attempts}</td>
            <td>{d.last_error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Webhooks() {
  const client = useQueryClient();
  const { data } = useQuery({ queryKey: ["webhooks"], queryFn: fetchWebhooks });
  const [url, setUrl] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: () => createWebhook(url),
    onSuccess: (made) => {
      setSecret(made.secret ?? null);
      setUrl("");
      setError(null);
      client.invalidateQueries({ queryKey: ["webhooks"] });
    },
    onError: (e) => setError(e instanceof ApiProblem ? (e.fieldMessage("url") ?? e.message) : "Not added."),
  });
  const [note, setNote] = useState<string | null>(null);
  const test = async (hook: WebhookView) => {
    try {
      await testWebhook(hook.id);
      setNote("A test delivery is on its way.");
      client.invalidateQueries({ queryKey: ["deliveries", hook.id] });
    } catch (e) {
      setNote(message(e, "Not sent."));
    }
  };
  const remove = async (hook: WebhookView) => {
    try {
      await deleteWebhook(hook.id);
      client.invalidateQueries({ queryKey: ["webhooks"] });
    } catch (e) {
      setNote(message(e, "Not deleted."));
    }
  };
  return (
    <Card title="Webhooks">
      <p className="text-sm text-slate-700">
        Every price alert is also posted, signed (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), to each address here.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
        className="flex flex-wrap items-end gap-2"
        noValidate
      >
        <label className="min-w-[16rem] flex-1 text-sm" htmlFor="webhook-url">
          Address (https)
          <input
            id="webhook-url"
            className={inputClass}
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://hooks.example.com/spontra"
            aria-invalid={!!error}
            aria-describedby={error ? "webhook-url-error" : undefined}
          />
        </label>
        <button type="submit" className={buttonClass} disabled={add.isPending}>
          Add webhook
        </button>
      </form>
      <FieldError id="webhook-url-error" message={error ?? undefined} />
      {secret ? (
        <Alert tone="success">
          Webhook added. Its signing secret, shown only now: <code data-testid="webhook-secret">{secret}</code>
        </Alert>
      ) : null}
      {note ? <p role="status" className="text-sm">{note}</p> : null}
      <ul className="space-y-4">
        {(data?.webhooks ?? []).map((hook) => (
          <li key={hook.id} className="space-y-2 rounded-md border border-slate-200 p-3" data-testid="webhook">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span className="break-all font-mono text-sm">{hook.url}</span>
              <div className="flex gap-2">
                <button type="button" className={secondaryButtonClass} onClick={() => test(hook)}>
                  Send a test delivery
                </button>
                <button type="button" className={secondaryButtonClass} onClick={() => remove(hook)} aria-label={`Delete webhook ${hook.url}`}>
                  Delete
                </button>
              </div>
            </div>
            <Deliveries hook={hook} />
          </li>
        ))}
      </ul>
    </Card>
  );
}

export default function AlertsPage() {
  const profile = useSession((s) => s.profile);
  const { data, error, isPending } = useQuery({ queryKey: ["alerts"], queryFn: fetchAlerts, enabled: !!profile });
  if (!profile) {
    return (
      <div className="space-y-3">
        <h1 className="text-xl font-bold">Price alerts</h1>
        <p>
          <Link href="/login/?next=/alerts/" className="font-semibold text-sky-800 underline">
            Sign in
          </Link>{" "}
          to see your price alerts.
        </p>
      </div>
    );
  }
  const alerts = data?.alerts ?? [];
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-bold">Price alerts</h1>
      <Card title="Your alerts">
        {error ? <Alert>{message(error, "Your alerts could not be loaded.")}</Alert> : null}
        {isPending ? (
          <div className="skeleton h-16" aria-hidden="true" />
        ) : alerts.length === 0 ? (
          <p className="text-sm">No alerts yet: use “Track prices” on a search, the price calendar or explore.</p>
        ) : (
          <ul>
            {alerts.map((a) => (
              <AlertRow key={a.id} a={a} />
            ))}
          </ul>
        )}
      </Card>
      <Webhooks />
    </div>
  );
}
