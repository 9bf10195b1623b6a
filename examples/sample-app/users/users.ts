import { api, APIError } from "encore.dev/api";
import { db } from "./db";

export interface User {
  id: number;
  name: string;
  email: string | null;
}

export const get = api(
  { expose: true, auth: true, method: "GET", path: "/users/:id" },
  async ({ id }: { id: number }): Promise<User> => {
    const user = await db.queryRow<User>`SELECT id, name, email FROM users WHERE id = ${id}`;
    if (!user) throw APIError.notFound("user not found");
    return user;
  },
);

export const create = api(
  { expose: true, method: "POST", path: "/users" },
  async ({ name, email }: { name: string; email?: string }): Promise<User> => {
    const user = await db.queryRow<User>`
      INSERT INTO users (name, email) VALUES (${name}, ${email ?? null})
      RETURNING id, name, email`;
    return user!;
  },
);

// Private: only other services call it, e.g. the digest cron job in notifications.
export const count = api({}, async (): Promise<{ total: number }> => {
  const row = await db.queryRow<{ total: number }>`SELECT count(*)::int AS total FROM users`;
  return { total: row?.total ?? 0 };
});
