// Live notifications of the signed-in user, from the API's WebSocket (reached through /console/ws, which adds the
// session's token: the cookies are HttpOnly, so no script ever holds it). A new notification raises the count in
// the header and is announced; the connection is opened again after a loss, waiting longer each time (30 s at most).
(() => {
  const announce = document.getElementById('notification-live');
  if (!announce) return;
  let delay = 1000;
  let hide;
  const connect = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/console/ws`);
    socket.addEventListener('open', () => {
      delay = 1000;
      document.body.dataset.live = 'connected';
    });
    socket.addEventListener('message', (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.type !== 'notification') return;
      // Looked up each time: htmx replaces the count once it has loaded it.
      const count = document.getElementById('notification-count');
      const unread = Number(count.dataset.count || 0) + 1;
      count.dataset.count = String(unread);
      count.textContent = String(unread);
      count.hidden = false;
      announce.textContent = `${message.notification.title}: ${message.notification.body}`;
      announce.hidden = false;
      clearTimeout(hide);
      hide = setTimeout(() => { announce.hidden = true; }, 8000);
    });
    socket.addEventListener('close', () => {
      document.body.dataset.live = 'disconnected';
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  connect();
})();
