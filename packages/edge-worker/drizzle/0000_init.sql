CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`anonymous_id` text,
	`item_id` text NOT NULL,
	`type` text NOT NULL,
	`value` real,
	`timestamp` integer NOT NULL,
	`received_at` integer NOT NULL,
	`context` text
);
--> statement-breakpoint
CREATE INDEX `events_user_ts_idx` ON `events` (`user_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `events_anon_ts_idx` ON `events` (`anonymous_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `events_ts_item_idx` ON `events` (`timestamp`,`item_id`);--> statement-breakpoint
CREATE TABLE `identity_links` (
	`anonymous_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`linked_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `identity_links_user_idx` ON `identity_links` (`user_id`);