CREATE TABLE `items` (
	`item_id` text PRIMARY KEY NOT NULL,
	`categories` text NOT NULL,
	`tags` text NOT NULL,
	`price` real,
	`available` integer NOT NULL,
	`created_at` integer,
	`attributes` text NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `items_updated_idx` ON `items` (`updated_at`);