CREATE TABLE `experiment_assignments` (
	`experiment_id` text NOT NULL,
	`user_key` text NOT NULL,
	`variant` text NOT NULL,
	`assigned_at` integer NOT NULL,
	PRIMARY KEY(`experiment_id`, `user_key`)
);
--> statement-breakpoint
CREATE INDEX `experiment_assignments_user_idx` ON `experiment_assignments` (`user_key`);--> statement-breakpoint
CREATE TABLE `experiments` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`surface` text NOT NULL,
	`status` text NOT NULL,
	`variants` text NOT NULL,
	`kind` text DEFAULT 'ab' NOT NULL,
	`config` text,
	`outcome` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`stopped_at` integer
);
--> statement-breakpoint
CREATE INDEX `experiments_surface_status_idx` ON `experiments` (`surface`,`status`);--> statement-breakpoint
CREATE TABLE `rec_lists` (
	`rec_id` text PRIMARY KEY NOT NULL,
	`surface` text NOT NULL,
	`user_key` text,
	`experiment_id` text,
	`variant` text NOT NULL,
	`model_version` text,
	`source` text NOT NULL,
	`items` text NOT NULL,
	`served_at` integer NOT NULL,
	`shown_at` integer
);
--> statement-breakpoint
CREATE INDEX `rec_lists_experiment_idx` ON `rec_lists` (`experiment_id`,`served_at`);--> statement-breakpoint
CREATE INDEX `rec_lists_user_idx` ON `rec_lists` (`user_key`,`served_at`);--> statement-breakpoint
CREATE TABLE `request_metrics` (
	`at` integer NOT NULL,
	`route` text NOT NULL,
	`status` integer NOT NULL,
	`latency_ms` real NOT NULL,
	`source` text NOT NULL,
	`variant` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `request_metrics_at_idx` ON `request_metrics` (`at`,`route`);