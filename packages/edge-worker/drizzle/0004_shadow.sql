CREATE TABLE `shadow_overlaps` (
	`shadow_id` text NOT NULL,
	`rec_id` text NOT NULL,
	`user_key` text,
	`at` integer NOT NULL,
	`k` integer NOT NULL,
	`common` integer NOT NULL,
	`jaccard` real NOT NULL,
	`average_overlap` real NOT NULL,
	PRIMARY KEY(`shadow_id`, `rec_id`)
);
--> statement-breakpoint
CREATE INDEX `shadow_overlaps_shadow_at_idx` ON `shadow_overlaps` (`shadow_id`,`at`);--> statement-breakpoint
CREATE INDEX `shadow_overlaps_user_idx` ON `shadow_overlaps` (`user_key`);--> statement-breakpoint
CREATE TABLE `shadows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`surface` text NOT NULL,
	`status` text NOT NULL,
	`strategy` text NOT NULL,
	`version` text,
	`sample` real NOT NULL,
	`created_at` integer NOT NULL,
	`stopped_at` integer
);
--> statement-breakpoint
CREATE INDEX `shadows_surface_status_idx` ON `shadows` (`surface`,`status`);