-- Create Tables.sql: the schema for Azure SQL (SQL Server), in dependency order.
-- Generated from infra/db/schema.py; do not edit by hand. Regenerate with:
--     python -m infra.db.ddl > "Documentation/Create Tables.sql"

CREATE TABLE departments (
	id INTEGER NOT NULL,
	department NVARCHAR(255) NOT NULL,
	CONSTRAINT pk_departments PRIMARY KEY (id)
);
GO

CREATE TABLE hire_summaries (
	year INTEGER NOT NULL,
	department_id INTEGER NOT NULL,
	job_id INTEGER NOT NULL,
	quarter INTEGER NOT NULL,
	hired INTEGER NOT NULL,
	CONSTRAINT pk_hire_summaries PRIMARY KEY (year, department_id, job_id, quarter)
);
GO

CREATE TABLE hire_summary_additions (
	id BIGINT NOT NULL IDENTITY,
	year NVARCHAR(max) NOT NULL,
	department_id NVARCHAR(max) NOT NULL,
	job_id NVARCHAR(max) NOT NULL,
	quarter NVARCHAR(max) NOT NULL,
	hired NVARCHAR(max) NOT NULL,
	CONSTRAINT pk_hire_summary_additions PRIMARY KEY (id)
);
GO

CREATE TABLE jobs (
	id INTEGER NOT NULL,
	job NVARCHAR(255) NOT NULL,
	CONSTRAINT pk_jobs PRIMARY KEY (id)
);
GO

CREATE TABLE load_batches (
	task_id VARCHAR(64) NOT NULL,
	table_name VARCHAR(32) NOT NULL,
	batch INTEGER NOT NULL,
	processed INTEGER NOT NULL,
	inserted INTEGER NOT NULL,
	already_exists INTEGER NOT NULL,
	errors INTEGER NOT NULL,
	error_ids NVARCHAR(max) NOT NULL,
	committed_at DATETIME2 NOT NULL,
	CONSTRAINT pk_load_batches PRIMARY KEY (task_id, table_name, batch)
);
GO

CREATE TABLE rejected_rows (
	id BIGINT NOT NULL IDENTITY,
	table_name VARCHAR(32) NOT NULL,
	source NVARCHAR(255) NOT NULL,
	line_number INTEGER NOT NULL,
	raw_text NTEXT NOT NULL,
	reasons NVARCHAR(max) NOT NULL,
	task_id VARCHAR(64) NOT NULL,
	rejected_at DATETIME2 NOT NULL,
	fields NVARCHAR(max) NULL,
	resolved_by VARCHAR(64) NULL,
	resolved_at DATETIME2 NULL,
	CONSTRAINT pk_rejected_rows PRIMARY KEY (id),
	CONSTRAINT uq_rejected_rows_task_line UNIQUE (task_id, table_name, line_number)
);
GO

CREATE INDEX ix_rejected_rows_table_name ON rejected_rows (table_name, id);
GO

CREATE TABLE tasks (
	id VARCHAR(64) NOT NULL,
	kind VARCHAR(64) NOT NULL,
	args NVARCHAR(max) NOT NULL,
	state VARCHAR(16) NOT NULL,
	submitted_at DATETIME2 NOT NULL,
	started_at DATETIME2 NULL,
	finished_at DATETIME2 NULL,
	progress NVARCHAR(max) NOT NULL,
	result NVARCHAR(max) NULL,
	error NTEXT NULL,
	lease_holder VARCHAR(200) NULL,
	lease_until DATETIME2 NULL,
	CONSTRAINT pk_tasks PRIMARY KEY (id)
);
GO

CREATE INDEX ix_tasks_state ON tasks (state);
GO

CREATE INDEX ix_tasks_submitted_at ON tasks (submitted_at);
GO

CREATE TABLE hired_employees (
	id INTEGER NOT NULL,
	name NVARCHAR(255) NOT NULL,
	datetime DATETIME2 NOT NULL,
	department_id INTEGER NOT NULL,
	job_id INTEGER NOT NULL,
	CONSTRAINT pk_hired_employees PRIMARY KEY (id),
	CONSTRAINT fk_hired_employees_department_id FOREIGN KEY(department_id) REFERENCES departments (id),
	CONSTRAINT fk_hired_employees_job_id FOREIGN KEY(job_id) REFERENCES jobs (id)
);
GO

CREATE INDEX ix_hired_employees_datetime ON hired_employees (datetime);
GO
