import { api } from "encore.dev/api";
import { getAuthData } from "~encore/auth";
import { Counter } from "encore.dev/metrics";
import { ordersDB } from "./db";
import { orderPlaced } from "./events";
import { receipts } from "./receipts";

const ordersPlaced = new Counter("orders_placed");

export interface PlaceOrderRequest {
  totalCents: number;
}

export const place = api(
  { expose: true, auth: true, method: "POST", path: "/orders" },
  async ({ totalCents }: PlaceOrderRequest): Promise<{ orderID: number }> => {
    const userID = Number(getAuthData()!.userID);
    const row = await ordersDB.queryRow<{ id: number }>`
      INSERT INTO orders (user_id, total_cents) VALUES (${userID}, ${totalCents}) RETURNING id`;
    const orderID = row!.id;
    await receipts.upload(`${orderID}.json`, Buffer.from(JSON.stringify({ orderID, userID, totalCents })), {
      contentType: "application/json",
    });
    await orderPlaced.publish({ orderID, userID, totalCents });
    ordersPlaced.increment();
    return { orderID };
  },
);

export const receipt = api(
  { expose: true, auth: true, method: "GET", path: "/orders/:id/receipt" },
  async ({ id }: { id: number }): Promise<{ url: string }> => {
    const { url } = await receipts.signedDownloadUrl(`${id}.json`, { ttl: 300 });
    return { url };
  },
);
