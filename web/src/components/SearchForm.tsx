"use client";

import { useEffect, useRef } from "react";
import { Controller, useFieldArray, useForm, type Resolver } from "react-hook-form";
import { useRouter } from "next/navigation";
import { PlaceInput } from "./PlaceInput";
import { FieldError, buttonClass, inputClass, secondaryButtonClass } from "./Field";
import { useBookable } from "@/api/operations";
import { ApiProblem } from "@/api/client";
import { resolvePlace, usePlaceName } from "@/api/places";
import { CABINS, CABIN_LABEL, formField, nestErrors, placeCode, validateSearch, type SearchForm as Form } from "@/lib/validation";
import { toQuery, type Filters, type Sort } from "@/lib/searchUrl";


/** Places typed without choosing from the list, taken when the text names one place. */
async function resolveFreeText(f: Form): Promise<Form> {
  const one = async (text: string) => {
    if (/^[A-Z]{3}$/.test(placeCode(text)) || text.trim().length < 2) return text;
    const code = await resolvePlace(text);
    return code ? `${text.trim()} (${code})` : text;
  };
  return {
    ...f,
    origin: await one(f.origin),
    destination: await one(f.destination),
    slices: await Promise.all(f.slices.map(async (s) => ({ ...s, origin: await one(s.origin), destination: await one(s.destination) }))),
  };
}

function normalised(f: Form): Form {
  return {
    ...f,
    origin: placeCode(f.origin),
    destination: placeCode(f.destination),
    slices: f.slices.map((s) => ({ ...s, origin: placeCode(s.origin), destination: placeCode(s.destination) })),
    adults: Number(f.adults),
    children: Number(f.children),
    infants: Number(f.infants),
  };
}

export function SearchForm({
  initial,
  filters = {},
  sort = "best",
  problem,
}: {
  initial: Form;
  filters?: Filters;
  sort?: Sort;
  /** The API's answer to the last search, if it refused it: shown at its fields. */
  problem?: ApiProblem | null;
}) {
  const router = useRouter();
  const bookable = useBookable();
  const window = bookable.data ? { from: bookable.data.bookable_from, to: bookable.data.bookable_to } : null;
  const resolver: Resolver<Form> = async (values) => {
    const v = normalised(await resolveFreeText(values));
    const errors = validateSearch(v, window);
    if (Object.keys(errors).length === 0) return { values: v, errors: {} };
    return { values: {}, errors: nestErrors(errors) as never };
  };
  const {
    control,
    register,
    handleSubmit,
    watch,
    setError,
    getValues,
    setValue,
    formState: { errors, isSubmitting },
  } = useForm<Form>({ defaultValues: initial, resolver });
  const slices = useFieldArray({ control, name: "slices" });
  const trip = watch("trip");

  // A search opened from its address has bare codes: show the places' names once known,
  // unless the traveller has started typing.
  const originName = usePlaceName(initial.origin);
  const destinationName = usePlaceName(initial.destination);
  useEffect(() => {
    for (const [field, named] of [
      ["origin", originName.label],
      ["destination", destinationName.label],
    ] as const) {
      if (getValues(field) === initial[field] && named !== initial[field]) setValue(field, named);
    }
  }, [originName.label, destinationName.label, initial, getValues, setValue]);

  // Switching between one way / return and multi-city keeps what was entered: the first
  // flight of a multi-city trip is the one-way trip's, and back.
  const previousTrip = useRef(trip);
  useEffect(() => {
    const before = previousTrip.current;
    previousTrip.current = trip;
    if (before === trip) return;
    if (trip === "multi" && !getValues("slices.0.origin")) {
      setValue("slices.0.origin", getValues("origin"));
      setValue("slices.0.destination", getValues("destination"));
      setValue("slices.0.date", getValues("depart"));
      if (getValues("slices.1.origin") === "") setValue("slices.1.origin", getValues("destination"));
    } else if (before === "multi" && trip !== "multi" && !getValues("origin")) {
      setValue("origin", getValues("slices.0.origin"));
      setValue("destination", getValues("slices.0.destination"));
      setValue("depart", getValues("slices.0.date"));
    }
  }, [trip, getValues, setValue]);

  useEffect(() => {
    if (!problem) return;
    for (const e of problem.errors) {
      const field = formField(e.field === "date" ? "depart" : e.field);
      setError(field as never, { type: "server", message: e.message });
    }
  }, [problem, setError]);

  const submit = (v: Form) => {
    router.push(`/search/?${toQuery({ form: v, filters, sort }).toString()}`);
  };

  const err = (path: string): string | undefined => {
    const parts = path.split(".");
    let node: unknown = errors;
    for (const p of parts) node = (node as Record<string, unknown> | undefined)?.[p];
    return (node as { message?: string } | undefined)?.message;
  };
  const num = "w-full rounded-md border border-slate-300 px-2 py-2";
  const dateField = (name: "depart" | "return" | `slices.${number}.date`, id: string, label: string) => (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        type="date"
        min={window?.from}
        max={window?.to}
        className={inputClass}
        aria-invalid={err(name) ? true : undefined}
        aria-describedby={err(name) ? `${id}-error` : undefined}
        {...register(name)}
      />
      <FieldError id={`${id}-error`} message={err(name)} />
    </div>
  );

  return (
    <form onSubmit={handleSubmit(submit)} noValidate aria-label="Search flights" className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <fieldset className="mb-3 flex flex-wrap gap-4">
        <legend className="sr-only">Trip type</legend>
        {(
          [
            ["return", "Return"],
            ["oneway", "One way"],
            ["multi", "Multi-city"],
          ] as const
        ).map(([value, text]) => (
          <label key={value} className="flex items-center gap-2 text-sm font-medium">
            <input type="radio" value={value} {...register("trip")} className="h-4 w-4 accent-sky-700" />
            {text}
          </label>
        ))}
      </fieldset>

      {trip !== "multi" ? (
        <div className="grid gap-3 md:grid-cols-2 lg:grid-cols-[3fr_3fr_2fr_2fr]">
          <Controller
            control={control}
            name="origin"
            render={({ field }) => (
              <PlaceInput id="origin" label="From" value={field.value} onChange={field.onChange} error={err("origin")} />
            )}
          />
          <Controller
            control={control}
            name="destination"
            render={({ field }) => (
              <PlaceInput id="destination" label="To" value={field.value} onChange={field.onChange} error={err("destination")} />
            )}
          />
          {dateField("depart", "depart", "Depart")}
          {trip === "return" ? dateField("return", "return", "Return") : null}
        </div>
      ) : (
        <div className="space-y-3">
          {slices.fields.map((s, i) => (
            <fieldset key={s.id} className="grid gap-3 md:grid-cols-2 lg:grid-cols-[3fr_3fr_2fr_auto]">
              <legend className="sr-only">Flight {i + 1}</legend>
              <NamedField code={initial.slices[i]?.origin ?? ""} value={() => getValues(`slices.${i}.origin`)} set={(v) => setValue(`slices.${i}.origin`, v)} />
              <NamedField code={initial.slices[i]?.destination ?? ""} value={() => getValues(`slices.${i}.destination`)} set={(v) => setValue(`slices.${i}.destination`, v)} />
              <Controller
                control={control}
                name={`slices.${i}.origin`}
                render={({ field }) => (
                  <PlaceInput id={`slices-${i}-origin`} label={`Flight ${i + 1} from`} value={field.value} onChange={field.onChange} error={err(`slices.${i}.origin`)} />
                )}
              />
              <Controller
                control={control}
                name={`slices.${i}.destination`}
                render={({ field }) => (
                  <PlaceInput
                    id={`slices-${i}-destination`}
                    label="To"
                    value={field.value}
                    onChange={(v) => {
                      // The next flight leaves from here, unless it was given another origin.
                      const next = getValues(`slices.${i + 1}.origin`);
                      if (next !== undefined && (next === "" || next === field.value)) setValue(`slices.${i + 1}.origin`, v);
                      field.onChange(v);
                    }}
                    error={err(`slices.${i}.destination`)}
                  />
                )}
              />
              {dateField(`slices.${i}.date`, `slices-${i}-date`, "Date")}
              <div className="flex items-end">
                {slices.fields.length > 1 ? (
                  <button type="button" className={secondaryButtonClass} onClick={() => slices.remove(i)} aria-label={`Remove flight ${i + 1}`}>
                    Remove
                  </button>
                ) : null}
              </div>
            </fieldset>
          ))}
          {slices.fields.length < 6 ? (
            <button type="button" className={secondaryButtonClass} onClick={() => slices.append({ origin: getValues(`slices.${slices.fields.length - 1}.destination`) ?? "", destination: "", date: "" })}>
              Add a flight
            </button>
          ) : null}
        </div>
      )}

      <div className="mt-3 grid grid-cols-2 gap-3 md:grid-cols-5">
        {(
          [
            ["adults", "Adults (12+)", 1, 9],
            ["children", "Children (2–11)", 0, 8],
            ["infants", "Lap infants (<2)", 0, 9],
          ] as const
        ).map(([name, text, min, max]) => (
          <div key={name}>
            <label htmlFor={name} className="block text-sm font-medium text-slate-700">
              {text}
            </label>
            <input
              id={name}
              type="number"
              inputMode="numeric"
              min={min}
              max={max}
              className={`${num} mt-1`}
              aria-invalid={err(name) ? true : undefined}
              aria-describedby={err(name) ? `${name}-error` : undefined}
              {...register(name, { valueAsNumber: true })}
            />
            <FieldError id={`${name}-error`} message={err(name)} />
          </div>
        ))}
        <div>
          <label htmlFor="cabin" className="block text-sm font-medium text-slate-700">
            Cabin
          </label>
          <select id="cabin" className={`${num} mt-1 bg-white`} {...register("cabin")}>
            {CABINS.map((c) => (
              <option key={c} value={c}>
                {CABIN_LABEL[c]}
              </option>
            ))}
          </select>
        </div>
        <div className="col-span-2 flex items-end md:col-span-1">
          <button type="submit" className={`${buttonClass} w-full`} disabled={isSubmitting}>
            Search
          </button>
        </div>
      </div>
    </form>
  );
}

/** A field opened from the address with a bare code shows its place's name once known,
 *  unless the traveller has started typing (for the flights of a multi-city trip). */
function NamedField({ code, value, set }: { code: string; value: () => string; set: (v: string) => void }) {
  const named = usePlaceName(code).label;
  useEffect(() => {
    if (code && named !== code && value() === code) set(named);
  }, [code, named, value, set]);
  return null;
}
