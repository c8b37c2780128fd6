// The pack for `pulumi preview --policy-pack policy`. Only constructs the PolicyPack (doing so
// starts its server); the policies live in policies.ts, which tests and `npm run policy` import.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("veza-redis-resilience", { policies });
