// The API's answers as TypeScript types, for clients in this repo (the dashboard). Type-only: a
// client bundles none of the server.
import type { z } from "zod";
import type * as Common from "./common.ts";
import type * as Consumers from "./consumers.ts";
import type * as Credits from "./credits.ts";
import type * as Invoices from "./invoices.ts";
import type * as Operations from "./operations.ts";
import type * as Reports from "./reports.ts";
import type * as Usage from "./usage.ts";

export type TdlMatrix = z.infer<typeof Common.TdlMatrix>;
export type Consumer = z.infer<typeof Consumers.Consumer>;
export type ConsumerList = z.infer<typeof Consumers.ConsumerList>;
export type ConsumerUsage = z.infer<typeof Usage.ConsumerUsage>;
export type UsageGroup = ConsumerUsage["groups"][number];
export type ObservedMatrix = z.infer<typeof Usage.ObservedMatrix>;
export type TdlCalendar = z.infer<typeof Usage.TdlCalendar>;
export type CalendarDay = z.infer<typeof Usage.CalendarDay>;
export type Spend = z.infer<typeof Usage.Spend>;
export type Me = z.infer<typeof Usage.Me>;
export type ConsumerCredit = z.infer<typeof Credits.ConsumerCredit>;
export type CreditLedger = z.infer<typeof Credits.CreditLedger>;
export type Invoice = z.infer<typeof Invoices.Invoice>;
export type InvoiceList = z.infer<typeof Invoices.InvoiceList>;
export type LineEvents = z.infer<typeof Reports.LineEvents>;
export type FlaggedEvents = z.infer<typeof Reports.FlaggedEvents>;
export type DeadLetterList = z.infer<typeof Operations.DeadLetterList>;
export type UserMetadata = z.infer<typeof Operations.UserMetadata>;
export type Ready = z.infer<typeof Operations.Ready>;
