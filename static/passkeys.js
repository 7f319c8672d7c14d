/* Passkeys (WebAuthn) for identity: registration on the passkeys page, passwordless login on
   the login page, the code step's passkey. No inline script (our CSP allows only 'self').

   A button [data-passkey="create"|"get"] inside a form, with data-options-url: a click POSTs
   there (CSRF header from the form) for the ceremony's options, runs
   navigator.credentials.create() or .get(), puts the answer (JSON, base64url) into the form's
   `credential` field and submits the form. Elements [data-passkey-only] are shown only where
   the browser can use passkeys. */
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "====".slice((base64.length + 3) % 4 + 1);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    json.excludeCredentials = descriptors(json.excludeCredentials);
    return json;
  }

  function requestOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.allowCredentials = descriptors(json.allowCredentials);
    return json;
  }

  function serialize(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      out.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return out;
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  }

  async function ceremony(button) {
    var form = button.form;
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    say(form, "");
    button.disabled = true;
    try {
      var answer = await fetch(button.dataset.optionsUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
        credentials: "same-origin"
      });
      var options = await answer.json();
      if (!answer.ok) throw new Error(options.error || "refused");
      var credential = button.dataset.passkey === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
      form.querySelector("[name=credential]").value = JSON.stringify(serialize(credential));
      form.submit();
    } catch (error) {
      button.disabled = false;
      if (error.name === "NotAllowedError") say(form, "No passkey was used (it was cancelled, or timed out).");
      else if (error.name === "InvalidStateError") say(form, "This authenticator already holds a passkey for your account.");
      else say(form, error.message && error.message !== "refused" ? error.message : "That did not work. Try again.");
    }
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll("[data-passkey-only]").forEach(function (element) { element.hidden = false; });
    document.querySelectorAll("button[data-passkey]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        ceremony(button);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
