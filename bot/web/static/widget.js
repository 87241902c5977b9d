/* Mounts rasa-webchat (loaded before this script as /webchat.js) against the assistant's
 * socket.io channel. A clinic's page embeds both scripts; the attributes of this <script>:
 *   data-socket-url  the Rasa server (required), e.g. https://triage.clinic.example
 *   data-selector    where to mount (default: a new element at the end of <body>)
 *   data-title       the widget's title
 * The page's address and language go to Rasa as the message metadata (`customData`). */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = script.dataset;
  var selector = data.selector;
  if (!selector) {
    var mount = document.createElement("div");
    mount.id = "triage-chat-" + Math.random().toString(36).slice(2);
    document.body.appendChild(mount);
    selector = "#" + mount.id;
  }
  window.WebChat.default({
    selector: selector,
    socketUrl: data.socketUrl,
    socketPath: "/socket.io/",
    initPayload: "hello",
    title: data.title || "Leg numbness triage",
    subtitle: "Not medical advice",
    inputTextFieldHint: "Describe what you feel...",
    customData: { language: document.documentElement.lang || "en", page: window.location.origin + window.location.pathname },
    params: { storage: "local" },
    showFullScreenButton: true
  }, null);
}());
