// The console's few browser helpers. No tokens or user data ever pass through here.
window.agentPlatformConsole = {
  // Remembers the theme for the server's first render; a year, this site only.
  setTheme: function (value) {
    document.cookie = "agentplatform.theme=" + encodeURIComponent(value) + "; path=/; max-age=31536000; samesite=lax";
  }
};
