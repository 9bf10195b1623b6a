import { Bucket } from "encore.dev/storage/objects";

// Versioned, so a receipt that is re-issued keeps its earlier copies.
export const receipts = new Bucket("order-receipts", {
  versioned: true,
});
