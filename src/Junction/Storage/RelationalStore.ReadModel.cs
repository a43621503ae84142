using System.Text.Json;
using Junction.Identity;
using Junction.State;

namespace Junction.Storage;

// The dashboard's read model: person_summary and order_summary, derived from each person's state in
// the projector's own transaction (and by a rebuild), and stats_hourly, counted where things happen.
public abstract partial class RelationalStore
{
    private const long HourMs = 3_600_000;

    /// <summary>One person's summary row and order rows; <paramref name="replaceOrders"/> drops the orders they no longer hold first.</summary>
    private static void AddSummary(RowWrites writes, PersonIdentity who, PersonState state, bool replaceOrders)
    {
        var first = state.Attribution.FirstTouch;
        var last = state.Attribution.LastTouch;
        writes.Add($"INSERT INTO {Tables.PersonSummary} (person_id, email, first_seen_ms, consent, first_source, first_campaign, last_source, last_campaign, order_count, test) "
            + "VALUES (@p, @e, @f, @c, @fs, @fc, @ls, @lc, @n, @t) ON CONFLICT (person_id) DO UPDATE SET email = excluded.email, first_seen_ms = excluded.first_seen_ms, "
            + "consent = excluded.consent, first_source = excluded.first_source, first_campaign = excluded.first_campaign, last_source = excluded.last_source, "
            + "last_campaign = excluded.last_campaign, order_count = excluded.order_count, test = excluded.test",
            ["p", "e", "f", "c", "fs", "fc", "ls", "lc", "n", "t"], who.Id, who.PrimaryEmail ?? state.PrimaryEmail ?? who.PurchaseEmail,
            who.FirstSeenAt.ToUnixTimeMilliseconds(), state.Consent.Any(c => c.Channel == "email" && c.Granted) ? 1L : 0L,
            first?.UtmSource, first?.UtmCampaign, last?.UtmSource, last?.UtmCampaign, (long)state.Derived.OrderCount, state.Test ? 1L : 0L);
        if (replaceOrders) writes.Add($"DELETE FROM {Tables.OrderSummary} WHERE person_id = @p", ["p"], who.Id);
        foreach (var o in state.Orders)
        {
            writes.Add($"INSERT INTO {Tables.OrderSummary} (source, order_id, person_id, status, currency, amount, refunded, paid_ms, refunded_ms, test) "
                + "VALUES (@s, @o, @p, @st, @c, @a, @r, @pm, @rm, @t) ON CONFLICT (source, order_id) DO UPDATE SET person_id = excluded.person_id, status = excluded.status, "
                + "currency = excluded.currency, amount = excluded.amount, refunded = excluded.refunded, paid_ms = excluded.paid_ms, refunded_ms = excluded.refunded_ms, test = excluded.test",
                ["s", "o", "p", "st", "c", "a", "r", "pm", "rm", "t"], o.Source, o.OrderId, who.Id, o.Status, o.Currency, o.Amount, o.Refunded,
                o.PaidAt?.ToUnixTimeMilliseconds(), o.RefundedAt?.ToUnixTimeMilliseconds(), state.Test ? 1L : 0L);
        }
    }

    private static void RemoveSummary(RowWrites writes, string personId)
    {
        writes.Add($"DELETE FROM {Tables.PersonSummary} WHERE person_id = @p", ["p"], personId);
        writes.Add($"DELETE FROM {Tables.OrderSummary} WHERE person_id = @p", ["p"], personId);
    }

    /// <summary>Adds <paramref name="count"/> to an hourly counter (e.g. accepted, stripe-main) inside the caller's transaction.</summary>
    private static void AddStat(RowWrites writes, long atMs, string metric, string key, long count) =>
        writes.Add($"INSERT INTO {Tables.StatsHourly} (hour_ms, metric, key, value) VALUES (@h, @m, @k, @v) "
            + $"ON CONFLICT (hour_ms, metric, key) DO UPDATE SET value = {Tables.StatsHourly}.value + excluded.value",
            ["h", "m", "k", "v"], atMs - atMs % HourMs, metric, key, count);

    /// <summary>Counts a batch of intake outcomes (accepted or duplicate, per source and hour) inside the batch's own transaction.</summary>
    protected static async Task AddIntakeStatsAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx,
        IReadOnlyList<RawEventDraft> batch, IReadOnlyList<AppendOutcome> outcomes, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(long Hour, string Metric, string Source), long>();
        for (var i = 0; i < batch.Count; i++)
        {
            var ms = batch[i].ReceivedAt.ToUnixTimeMilliseconds();
            var key = (ms - ms % HourMs, outcomes[i].Duplicate ? "duplicate" : "accepted", batch[i].Source);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        var writes = new RowWrites(connection, tx);
        foreach (var ((hour, metric, source), n) in counts) AddStat(writes, hour, metric, source, n);
        await writes.ExecuteAsync(cancellationToken);
    }

    /// <summary>
    /// Fills the read model for people projected before it existed (a store upgraded in place), in
    /// chunks; idempotent, so two nodes starting together only repeat each other's upserts.
    /// </summary>
    public async Task<int> BackfillReadModelAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            List<(string Id, string FirstSeen, string? Primary, string? Purchase, string State)> rows;
            await using (var connection = await OpenAsync(cancellationToken))
            {
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = $"SELECT person_id, first_seen_at, primary_email, purchase_email, state FROM {Tables.People} p "
                    + $"WHERE merged_into IS NULL AND state IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {Tables.PersonSummary} s WHERE s.person_id = p.person_id) LIMIT 2000";
                rows = [.. await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), NullableString(r, 2), NullableString(r, 3), r.GetString(4)), cancellationToken)];
            }
            if (rows.Count == 0) return total;
            using var gate = await EnterWriteAsync(cancellationToken);
            await using var write = await OpenAsync(cancellationToken);
            await using var tx = await write.BeginTransactionAsync(cancellationToken);
            var writes = new RowWrites(write, tx);
            foreach (var (id, firstSeen, primary, purchase, json) in rows)
            {
                var state = JsonSerializer.Deserialize<PersonState>(json, PersonState.JsonOptions)!;
                var who = new PersonIdentity { Id = id, FirstSeenAt = ParseTime(firstSeen), PrimaryEmail = primary, PurchaseEmail = purchase, Identifiers = [] };
                AddSummary(writes, who, state, replaceOrders: true);
            }
            await writes.ExecuteAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            total += rows.Count;
        }
    }
}
