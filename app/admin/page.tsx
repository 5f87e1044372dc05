import { AdminPage } from '../../components/admin-page';
import { ConsoleShell } from '../../components/console-shell';

/** Admin: users, API tokens, audit log (the server refuses non-admins). */
export default function Admin() {
  return (
    <ConsoleShell>
      <AdminPage />
    </ConsoleShell>
  );
}
