// The admin single-page app: sign-in, then hash routes #/sources, #/sources/new,
// #/sources/NAME/edit and #/fields.
import { get, token, setToken } from "./api.js";
import { h, add, clear, errorBox, field } from "./dom.js";
import { sourcesPage } from "./sources.js";
import { wizardPage } from "./wizard.js";
import { fieldsPage } from "./fields.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

function signInPage(problem) {
  nav.hidden = true;
  const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const status = h("div", { "aria-live": "polite" }, problem ? errorBox(problem, "Sign-in failed") : null);
  const form = h(
    "form.card.narrow",
    {
      "aria-labelledby": "signin-title",
      onsubmit: async (ev) => {
        ev.preventDefault();
        setToken(input.value.trim());
        try {
          await get("/api/v1/sources");
          location.hash = location.hash && location.hash !== "#/signin" ? location.hash : "#/sources";
          route();
        } catch (err) {
          setToken("");
          add(clear(status), errorBox(err, "Sign-in failed"));
          input.select();
        }
      },
    },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Paste an admin API token. Create one on the server with ", h("code", {}, "extdata token create --role admin"), "."),
    field("Admin API token", input),
    h("button.primary", { type: "submit" }, "Sign in"),
    status
  );
  add(clear(main), form);
  input.focus();
}

let routeSeq = 0;
async function route() {
  const mine = ++routeSeq;
  if (!token()) return signInPage();
  nav.hidden = false;
  const hash = location.hash || "#/sources";
  for (const a of nav.querySelectorAll("a[href^='#']")) {
    if (a.getAttribute("href") === hash) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  let page;
  const edit = hash.match(/^#\/sources\/([^/]+)\/edit$/);
  try {
    if (hash === "#/sources/new") page = await wizardPage(null);
    else if (edit) page = await wizardPage(decodeURIComponent(edit[1]));
    else if (hash.startsWith("#/fields")) page = await fieldsPage();
    else page = await sourcesPage();
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      setToken("");
      return signInPage(err);
    }
    page = h("section", {}, h("h1", {}, "Something went wrong"), errorBox(err));
  }
  // A slower earlier route (e.g. the sources list) must not cover a newer page.
  if (mine !== routeSeq) return;
  add(clear(main), page);
  const heading = main.querySelector("h1");
  if (heading) document.title = heading.textContent + " — extdata";
}

document.getElementById("sign-out").addEventListener("click", () => {
  setToken("");
  location.hash = "#/sources";
  signInPage();
});
window.addEventListener("hashchange", route);
route();
