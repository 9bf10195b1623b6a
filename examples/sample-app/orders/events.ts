import { Topic } from "encore.dev/pubsub";

export interface OrderPlaced {
  orderID: number;
  userID: number;
  totalCents: number;
}

export const orderPlaced = new Topic<OrderPlaced>("order-placed", {
  deliveryGuarantee: "at-least-once",
  orderingAttribute: "userID",
});
