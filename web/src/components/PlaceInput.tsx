"use client";

// Airport and city autocomplete: an ARIA 1.2 combobox. Arrow keys move through suggestions,
// Enter and Tab pick (the highlighted suggestion, else the best), Escape closes; each suggestion shows the city, the country and the code, and
// city codes (LON, NYC) are offered for "all airports".

import { useEffect, useId, useRef, useState } from "react";
import { placeLabel as label, usePlaces } from "@/api/places";
import type { Place } from "@/api/types";
import { inputClass, FieldError } from "./Field";


function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function PlaceInput({
  id,
  label: text,
  value,
  onChange,
  error,
  placeholder,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  placeholder?: string;
}) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const listId = useId();
  const errorId = `${id}-error`;
  const q = useDebounced(value.trim(), 150);
  const typing = q.length >= 2 && !/\([A-Z]{3}\)$/.test(q);
  const { data = [], isFetching, isFetched: fetched } = usePlaces(q, typing);
  const options = typing ? data : [];
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, []);

  const pick = (p: Place) => {
    onChange(label(p));
    setOpen(false);
    setActive(-1);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, options.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter" && expanded) {
      // Enter with the list open picks (the highlighted suggestion, else the best one); it
      // never submits a half-typed place.
      e.preventDefault();
      pick(options[active >= 0 ? active : 0]);
    } else if (e.key === "Tab" && expanded) {
      // Leaving the field takes the highlighted or best suggestion ("Barcelna" → Barcelona)
      // and closes the list; focus moves on as usual.
      pick(options[active >= 0 ? active : 0]);
    } else if (e.key === "Escape") {
      setOpen(false);
    }
  };

  const expanded = open && options.length > 0;
  return (
    <div ref={ref} className="relative">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {text}
      </label>
      <input
        id={id}
        name={id}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        placeholder={placeholder ?? "City or airport"}
        className={inputClass}
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <ul
        id={listId}
        role="listbox"
        aria-label={`${text} suggestions`}
        hidden={!expanded}
        className="absolute z-20 mt-1 max-h-80 w-full min-w-72 overflow-auto rounded-md border border-slate-200 bg-white py-1 shadow-lg"
      >
        {options.map((p, i) => (
          <li
            key={`${p.kind}-${p.code}`}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active}
            className={`cursor-pointer px-3 py-2 text-sm ${i === active ? "bg-sky-100" : "hover:bg-slate-50"}`}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(p);
            }}
          >
            <span className="font-medium">{p.kind === "city" ? `${p.city} — all airports` : p.name}</span>{" "}
            <span className="font-mono text-slate-600">{p.code}</span>
            <span className="block text-xs text-slate-600">
              {p.kind === "city" ? p.airports.join(", ") + " · " : `${p.city} · `}
              {p.country_name}
            </span>
          </li>
        ))}
      </ul>
      {isFetching && typing ? <span className="sr-only" role="status">Loading suggestions</span> : null}
      {open && typing && !isFetching && fetched && options.length === 0 ? (
        <p role="status" className="absolute z-20 mt-1 w-full min-w-72 rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700 shadow-lg">
          No airport or city matches “{q}”
        </p>
      ) : null}
      <FieldError id={errorId} message={error} />
    </div>
  );
}
