import { APIError, Gateway, Header } from "encore.dev/api";
import { authHandler } from "encore.dev/auth";
import { secret } from "encore.dev/config";
import { createHmac, timingSafeEqual } from "node:crypto";

// Signs the session tokens; set per environment, never committed.
const sessionSigningKey = secret("SessionSigningKey");

interface AuthParams {
  authorization: Header<"Authorization">;
}

export interface AuthData {
  userID: string;
}

export const auth = authHandler<AuthParams, AuthData>(async (params) => {
  const token = params.authorization?.replace(/^Bearer /, "") ?? "";
  const [userID, signature] = token.split(".");
  if (!userID || !signature) throw APIError.unauthenticated("missing token");
  const expected = createHmac("sha256", sessionSigningKey()).update(userID).digest("hex");
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw APIError.unauthenticated("invalid token");
  }
  return { userID };
});

export const gateway = new Gateway({ authHandler: auth });
