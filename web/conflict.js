// What the wizard and the field editor show when a save answers 412: the name is taken
// (store.exists, after "New") or someone else changed the item since it was opened
// (store.version_mismatch, after "Edit"). Nothing was saved in either case; the user chooses.
import { h } from "./dom.js";

// `kind`: "source" | "field"; `open()`: show the stored one; `rename()`: back to the name box.
export function existsNotice(kind, name, { open, rename }) {
  return h(
    "div.notice.error.conflict",
    { role: "alert", "data-conflict": "exists" },
    h("strong", {}, `A ${kind} named ${name} exists already`),
    h("p", {}, `Nothing was saved: the existing ${kind} is unchanged. Open it to edit it, or give this one another name.`),
    h(
      "div.buttons",
      {},
      h("button.primary", { type: "button", onclick: open }, "Open the existing one"),
      h("button", { type: "button", onclick: rename }, "Choose another name")
    )
  );
}

export function changedNotice(kind, name, err, { reload }) {
  const deleted = !(err.upstream && err.upstream.current_version);
  return h(
    "div.notice.error.conflict",
    { role: "alert", "data-conflict": "changed" },
    h("strong", {}, deleted ? `The ${kind} ${name} was deleted meanwhile` : `Someone else changed the ${kind} ${name}`),
    h("p", {}, deleted ? `Your changes are not saved.` : `Your changes are not saved: they were made to an older version. Reload to see the current one, then make your changes again.`),
    h("div.buttons", {}, h("button.primary", { type: "button", onclick: reload }, "Reload"))
  );
}

// The notice for a failed save, or null when the error is not a 412 of this kind.
export function conflictNotice(kind, name, err, actions) {
  if (err.status !== 412) return null;
  if (err.code === "store.exists") return existsNotice(kind, name, actions);
  return changedNotice(kind, name, err, actions);
}
