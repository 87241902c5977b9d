/* Mounts rasa-webchat (loaded before this script as /webchat.js) against the assistant's
 * socket.io channel. A clinic's page embeds both scripts; the attributes of this <script>:
 *   data-socket-url  the Rasa server (required), e.g. https://triage.clinic.example
 *   data-selector    where to mount (default: a new element at the end of <body>)
 *   data-title       the widget's title
 * The page's address and language go to Rasa as the message metadata (`customData`).
 *
 * It also mends what rasa-webchat 1.0.1 leaves out for keyboard and screen-reader users
 * (checked with axe-core and the keyboard in tests/web/test_accessibility.py):
 *   - names for its icon-only buttons, a label for the message box, and the message list as a
 *     focusable role="log" (so that it can be scrolled with the keyboard and replies are read out);
 *   - quick replies, which the widget renders as <div>s, become buttons one can reach with Tab and
 *     press with Enter or Space;
 *   - Escape closes the chat, and closing it puts the focus back on the launcher;
 *   - an emergency reply is read out at once: the text of a reply whose decision payload is
 *     {"triage": {"level": "emergency"}} goes into a visually hidden assertive live region
 *     (role="alert", #triage-emergency-announcer), not only shown in red.
 *     The channel (bot/channels/socketio.py) marks that reply's text bubbles with the class
 *     EMERGENCY_CLASS from the same payload, then sends the payload itself; nothing here reads
 *     the wording. */
(function () {
  "use strict";
  var EMERGENCY_CLASS = "triage-emergency";
  var script = document.currentScript;
  var data = script.dataset;
  var selector = data.selector;
  if (!selector) {
    var mount = document.createElement("div");
    mount.id = "triage-chat-" + Math.random().toString(36).slice(2);
    document.body.appendChild(mount);
    selector = "#" + mount.id;
  }
  // rasa-webchat 1.0.1 renders into an element of its own (#rasaWebchatPro) at the end of <body>.
  var root = document.body;
  var announcer = emergencyAnnouncer();
  var emergencyTexts = [];  // the text bubbles of the reply being received, when marked emergency
  var lastAnnounced = 0;
  var SAME_REPLY_MS = 3000;

  /* The live region must be in the page before anything is written into it, or screen readers miss it. */
  function emergencyAnnouncer() {
    var region = document.getElementById("triage-emergency-announcer");
    if (!region) {
      region = document.createElement("div");
      region.id = "triage-emergency-announcer";
      region.className = "triage-visually-hidden";
      region.setAttribute("role", "alert");
      region.setAttribute("aria-live", "assertive");
      region.setAttribute("aria-atomic", "false");  // each new line is read, not the lot again
      document.body.appendChild(region);
    }
    return region;
  }

  function isEmergencyText(message) {
    var css = message && message.metadata && message.metadata.customCss;
    return Boolean(css && css.css === EMERGENCY_CLASS && typeof message.text === "string");
  }

  function emergencyDecision(message) {
    var triage = message && message.custom && message.custom.triage;
    return Boolean(triage && triage.level === "emergency");
  }

  /* Every bot_uttered the widget receives, seen before it renders it. */
  function onBotUttered(message) {
    if (isEmergencyText(message)) {
      emergencyTexts.push(message.text);
    } else if (message && message.custom && message.custom.triage) {
      if (emergencyDecision(message) && emergencyTexts.length) {
        announce(emergencyTexts.join("\n"));
      }
      emergencyTexts = [];
    }
  }

  /* An emergency reply comes as several messages (the instruction, then why): each is added as a
   * line and read out as it comes. A new emergency a while later (a reminder) starts afresh. */
  function announce(text) {
    var now = Date.now();
    if (now - lastAnnounced > SAME_REPLY_MS) {
      announcer.textContent = "";
    }
    lastAnnounced = now;
    var line = document.createElement("p");
    line.textContent = text;
    window.setTimeout(function () { announcer.appendChild(line); }, 50);
  }

  function label(element, name) {
    if (element && element.getAttribute("aria-label") !== name) {
      element.setAttribute("aria-label", name);
    }
  }

  /* The widget re-renders its parts as the conversation goes; this runs after each change. */
  function mend() {
    var open = Boolean(root.querySelector(".rw-widget-container.rw-chat-open"));
    root.querySelectorAll(".rw-launcher").forEach(function (button) {
      label(button, open ? "Close the triage chat" : "Open the triage chat");
      button.setAttribute("aria-expanded", String(open));
    });
    root.querySelectorAll(".rw-close-button").forEach(function (button) { label(button, "Close the triage chat"); });
    root.querySelectorAll(".rw-toggle-fullscreen-button").forEach(function (button) { label(button, "Full screen"); });
    root.querySelectorAll(".rw-send").forEach(function (button) { label(button, "Send"); });
    root.querySelectorAll(".rw-new-message").forEach(function (box) { label(box, "Your message"); });
    root.querySelectorAll(".rw-messages-container").forEach(function (list) {
      if (list.getAttribute("role") !== "log") {
        list.setAttribute("role", "log");
        list.setAttribute("aria-label", "Conversation with the triage assistant");
        list.setAttribute("tabindex", "0");
      }
    });
    root.querySelectorAll(".rw-reply").forEach(function (reply) {
      if (reply.getAttribute("role") !== "button") {
        reply.setAttribute("role", "button");
        reply.setAttribute("tabindex", "0");
      }
    });
  }

  function focusLater(find) {
    window.setTimeout(function () {
      var element = find();
      if (element) { element.focus(); }
    }, 50);
  }

  root.addEventListener("keydown", function (event) {
    var reply = event.target.closest && event.target.closest(".rw-reply");
    if (reply && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      reply.click();  // the widget's own handler sends it; the replies then go away
      focusLater(function () { return root.querySelector(".rw-new-message"); });
    } else if (event.key === "Escape" && event.target.closest && event.target.closest(".rw-widget-container")
               && root.querySelector(".rw-close-button")) {
      event.preventDefault();
      root.querySelector(".rw-close-button").click();
      focusLater(function () { return root.querySelector(".rw-launcher"); });
    }
  });
  root.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".rw-close-button")) {
      focusLater(function () { return root.querySelector(".rw-launcher"); });
    }
  });
  new MutationObserver(mend).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });

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
    showFullScreenButton: true,
    onSocketEvent: { bot_uttered: onBotUttered }
  }, null);
  mend();
}());
