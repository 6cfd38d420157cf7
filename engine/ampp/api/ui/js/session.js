// Who the user is and what they may do, so that no button is shown whose request would fail.
// Until the server reports roles, everyone may do everything (as with Alertmanager's own UI).

const WRITES = {
  "silence:write": ["admin", "operator"],
  "delivery:redrive": ["admin", "operator"],
};

export const session = { user: null, role: null };

export function can(action) {
  if (!session.role) return true;
  return (WRITES[action] || ["admin"]).includes(session.role);
}
