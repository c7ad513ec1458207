// The Streamlit custom-component protocol (v1, an iframe) in the few lines this component needs.
// The page posts "streamlit:render" with the arguments from Python; we post back values and our height.

const send = (type, data = {}) => window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");

/** Call `onRender(args, theme)` for every render message (one per Python rerun), then say we are ready. */
export function connect(onRender) {
  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "streamlit:render") onRender(event.data.args || {}, event.data.theme || null);
  });
  send("streamlit:componentReady", { apiVersion: 1 });
}

/** A JSON value for Python: it reruns the page (the part of it that holds the component). */
export const setValue = (value) => send("streamlit:setComponentValue", { value, dataType: "json" });

/** Keep the iframe as tall as what it shows. */
export function followHeight(element) {
  let last = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(element.getBoundingClientRect().height);
    if (height !== last) send("streamlit:setFrameHeight", { height: (last = height) });
  }).observe(element);
}
