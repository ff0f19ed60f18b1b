-- Cancellation Lab schema. Run at every start-up: every statement is idempotent, and columns added
-- after the first release are added with ALTER TABLE ... ADD COLUMN IF NOT EXISTS below, so a
-- database written by an older version still opens.
-- All timestamps are UTC (TIMESTAMP without zone, converted on import).

-- Grain: one row per data set (an import or a generation).
CREATE TABLE IF NOT EXISTS datasets (
    id                    VARCHAR PRIMARY KEY,   -- unguessable, URL-safe (128 random bits)
    name                  VARCHAR NOT NULL,
    source_kind           VARCHAR NOT NULL,      -- 'generated' | 'import' | 'external' (a Parquet directory read where it is)
    source                JSON,                  -- generator parameters and seed, or files and column mapping; external:
                                                 -- {"parquet": directory, "engine": local | spark, "spark_remote": address}
    true_params           JSON,                  -- generated data sets: the behaviour they were made with
    created_at            TIMESTAMP NOT NULL,
    orders                BIGINT NOT NULL DEFAULT 0,
    cancellation_requests BIGINT NOT NULL DEFAULT 0,
    refunds               BIGINT NOT NULL DEFAULT 0,
    refused_rows          BIGINT NOT NULL DEFAULT 0,
    is_demo               BOOLEAN NOT NULL DEFAULT false,
    warned_rows           BIGINT NOT NULL DEFAULT 0
);

-- Grain: one row per order of a data set.
CREATE TABLE IF NOT EXISTS orders (
    dataset_id      VARCHAR NOT NULL,
    order_id        VARCHAR NOT NULL,
    source_line     BIGINT,                      -- line in the source file (generated: row number + 1)
    placed_at       TIMESTAMP NOT NULL,
    payment_method  VARCHAR NOT NULL,
    amount          DOUBLE NOT NULL,
    currency        VARCHAR,
    buyer_id        VARCHAR,
    seller_id       VARCHAR,
    shipping_method VARCHAR,
    paid_at         TIMESTAMP,
    shipped_at      TIMESTAMP,
    delivered_at    TIMESTAMP,
    status          VARCHAR,
    cancelled_at    TIMESTAMP,
    is_cancelled    BOOLEAN NOT NULL,            -- a cancelled status or a cancellation time
    cancel_stage    VARCHAR                      -- cancelled orders: before_payment | awaiting_shipment | after_shipment
);

-- Grain: one row per (order, seller) of an order with several sellers (Olist's items file names them);
-- orders.seller_id holds the seller of the order's first item. `share` is the seller's part of the
-- order's items (price and freight), so an order's amount is split between its sellers, never doubled.
CREATE TABLE IF NOT EXISTS order_sellers (
    dataset_id VARCHAR NOT NULL,
    order_id   VARCHAR NOT NULL,
    seller_id  VARCHAR NOT NULL,
    share      DOUBLE NOT NULL
);

-- Grain: one row per cancellation request (an order carries at most one).
-- A row exists when the export has a request time or a reason. An order cancelled by status alone
-- (no request recorded) has no row here: it is counted through orders.is_cancelled.
CREATE TABLE IF NOT EXISTS cancellation_requests (
    dataset_id      VARCHAR NOT NULL,
    order_id        VARCHAR NOT NULL,
    requested_at    TIMESTAMP,
    reason          VARCHAR NOT NULL,            -- normalised label; 'unknown' when the export has none
    stage           VARCHAR NOT NULL,            -- before_payment | awaiting_shipment | after_shipment | unknown (no payment or shipment times)
    seller_response VARCHAR,                     -- accepted | rejected | none | other label | NULL (unknown)
    responded_at    TIMESTAMP,
    outcome         VARCHAR NOT NULL,            -- see analytics/outcomes.py
    return_path     BOOLEAN NOT NULL             -- the parcel left before the request was answered
);

-- Grain: one row per refund (an order carries at most one).
CREATE TABLE IF NOT EXISTS refunds (
    dataset_id   VARCHAR NOT NULL,
    order_id     VARCHAR NOT NULL,
    channel      VARCHAR,                        -- original | wallet | coupon | other label | NULL (unknown)
    amount       DOUBLE,
    initiated_at TIMESTAMP,
    completed_at TIMESTAMP
);

-- Grain: one row per source row that an import refused.
CREATE TABLE IF NOT EXISTS refused_rows (
    dataset_id  VARCHAR NOT NULL,
    source_file VARCHAR,
    line_number BIGINT,                          -- physical line in the file, header = line 1
    field       VARCHAR,                         -- the field of the first failing check
    reason      VARCHAR NOT NULL,                -- the first failing check, e.g. 'paid_at: not a timestamp'
    message     VARCHAR NOT NULL,                -- every failing check, with the values
    raw         JSON                             -- the row as read, column by column
);

-- Grain: one row per order stored with a warning (odd values of a real order), at its first line.
CREATE TABLE IF NOT EXISTS warned_rows (
    dataset_id  VARCHAR NOT NULL,
    source_file VARCHAR,
    line_number BIGINT,                          -- physical line in the file, header = line 1
    field       VARCHAR,                         -- the field of the first warning
    reason      VARCHAR NOT NULL,                -- the first warning, e.g. 'shipped_at: before paid_at'
    message     VARCHAR NOT NULL,                -- every warning, with the values
    raw         JSON                             -- the row as read, column by column
);

-- Grain: one row per saved what-if scenario.
CREATE TABLE IF NOT EXISTS scenarios (
    id         VARCHAR PRIMARY KEY,
    dataset_id VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    policy     JSON NOT NULL,                    -- only the parameters that differ from the defaults
    created_at TIMESTAMP NOT NULL
);

-- Grain: one row per data set whose calibration was fitted (the what-if engine's fit, cached).
CREATE TABLE IF NOT EXISTS calibrations (
    dataset_id VARCHAR PRIMARY KEY,
    version    INTEGER NOT NULL,
    fitted     JSON NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL);
