CREATE TABLE `deleted_users` (
	`user_key` text PRIMARY KEY NOT NULL,
	`deleted_at` integer NOT NULL
);
