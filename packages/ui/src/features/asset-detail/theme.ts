import { useEffect, useState } from "react";

/** Read CSS custom properties (e.g. `--text`) from the document, again whenever light/dark changes. */
export function useCssVars<const N extends readonly string[]>(names: N): Record<N[number], string> {
  const read = () => {
    const style = getComputedStyle(document.documentElement);
    return Object.fromEntries(names.map((n) => [n, style.getPropertyValue(n).trim() || "#888"])) as Record<
      N[number],
      string
    >;
  };
  const [vars, setVars] = useState(read);
  // biome-ignore lint/correctness/useExhaustiveDependencies: names are a constant list per caller
  useEffect(() => {
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => setVars(read());
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, []);
  return vars;
}
