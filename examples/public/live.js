// The profile page's live panel, an enhancement: without JavaScript the page works as before.
// It shows counter changes from other tabs and browsers as they happen, and when this session is
// ended elsewhere (another device's "End", a logout in another tab) it says so and goes to the
// sign-in page at once.
;(() => {
  const panel = document.getElementById('live')
  const status = document.getElementById('live-status')
  const others = document.getElementById('live-others')
  const count = document.getElementById('count')
  if (!panel || !status || !others || !count || !('WebSocket' in window)) return
  panel.hidden = false

  const ENDED = {
    revoked: 'This session was ended from another device.',
    logout: 'This session was signed out in another tab.',
    replaced: 'This session was replaced by a newer sign-in.',
    expired: 'This session expired.',
  }
  let leaving = false
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`)

  // this page's own forms (log out, end a session) navigate away: their answer says what happened
  document.addEventListener('submit', () => {
    leaving = true
    socket.close(1000)
  })
  socket.addEventListener('open', () => {
    status.textContent = 'Connected: changes from your other tabs and browsers show here.'
  })
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data)
    if (message.type === 'ended') return end(message.reason)
    if (message.type !== 'count') return
    if (message.current) count.textContent = String(message.count)
    else showOther(message.session, message.count)
  })
  socket.addEventListener('close', (event) => {
    // 4000 + a SessionError code: the session was refused or has ended
    if (event.code >= 4200 && event.code < 4300) return end(event.reason.split(' ')[1] ?? '')
    if (!leaving) status.textContent = 'Disconnected: reload the page to see live changes.'
  })

  function end(reason) {
    if (leaving) return
    leaving = true
    status.textContent = `${ENDED[reason] ?? 'This session has ended.'} Going to the sign-in page…`
    location.replace('/login?from=live')
  }

  function showOther(session, value) {
    let item = Array.from(others.children).find((child) => child.dataset.session === session)
    if (!item) {
      item = document.createElement('li')
      item.dataset.session = session
      others.append(item)
    }
    item.textContent = `Session ${session} counted ${value}`
  }
})()
