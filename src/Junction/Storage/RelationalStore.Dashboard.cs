namespace Junction.Storage;

/// <summary>A figure per currency (minor units).</summary>
public sealed record CurrencyAmount(string Currency, long Amount);

/// <summary>The overview's business figures for a period, from the read model; test people never count.</summary>
public sealed record BusinessFigures(
    long Orders, IReadOnlyList<CurrencyAmount> Gross, long Refunds, IReadOnlyList<CurrencyAmount> Refunded, long NewLeads,
    long OrdersWithLead, long OrdersWithUtm);

/// <summary>One hourly counter (stats_hourly) summed over a period, by key.</summary>
public sealed record StatTotal(string Metric, string Key, long Value);

/// <summary>Revenue of the buyers of one source and campaign (first or last touch; null: no attribution).</summary>
public sealed record AttributedRevenue(string? Source, string? Campaign, string? Currency, long Buyers, long Revenue);

/// <summary>A row of the people list.</summary>
public sealed record PersonRow(string PersonId, string? Email, long FirstSeenMs, bool Consent, string? FirstSource, int Orders, bool Test);

// The dashboard's queries: each an indexed aggregate over the read model or the hourly counters.
public abstract partial class RelationalStore
{
    public async Task<BusinessFigures> BusinessFiguresAsync(long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Orders paid in the period (pending and failed ones never were), test orders left out.
        static string PaidIn(string alias) =>
            $"{alias}test = 0 AND {alias}paid_ms >= @from AND {alias}paid_ms < @to AND {alias}status NOT IN ('pending', 'failed')";
        var paid = PaidIn("");
        var paidO = PaidIn("o.");
        async Task<List<CurrencyAmount>> Sums(string sql)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            AddParameter(cmd, "from", fromMs);
            AddParameter(cmd, "to", toMs);
            return [.. await ReadAllAsync(cmd, r => new CurrencyAmount(r.IsDBNull(0) ? "XXX" : r.GetString(0), r.IsDBNull(1) ? 0 : r.GetInt64(1)), cancellationToken)];
        }
        async Task<long> Count(string sql)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            AddParameter(cmd, "from", fromMs);
            AddParameter(cmd, "to", toMs);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
        var gross = await Sums($"SELECT currency, SUM(amount) FROM {Tables.OrderSummary} WHERE {paid} GROUP BY currency ORDER BY currency");
        var refunded = await Sums($"SELECT currency, SUM(refunded) FROM {Tables.OrderSummary} WHERE test = 0 AND refunded_ms >= @from AND refunded_ms < @to GROUP BY currency ORDER BY currency");
        return new BusinessFigures(
            await Count($"SELECT COUNT(*) FROM {Tables.OrderSummary} WHERE {paid}"),
            gross,
            await Count($"SELECT COUNT(*) FROM {Tables.OrderSummary} WHERE test = 0 AND refunded_ms >= @from AND refunded_ms < @to"),
            refunded,
            await Count($"SELECT COUNT(*) FROM {Tables.PersonSummary} WHERE test = 0 AND consent = 1 AND first_seen_ms >= @from AND first_seen_ms < @to"),
            await Count($"SELECT COUNT(*) FROM {Tables.OrderSummary} o JOIN {Tables.PersonSummary} p ON p.person_id = o.person_id WHERE {paidO} AND p.first_seen_ms < o.paid_ms"),
            await Count($"SELECT COUNT(*) FROM {Tables.OrderSummary} o JOIN {Tables.PersonSummary} p ON p.person_id = o.person_id WHERE {paidO} AND p.first_source IS NOT NULL"));
    }

    /// <summary>Hourly counters summed over [from, to) per metric and key.</summary>
    public async Task<IReadOnlyList<StatTotal>> StatTotalsAsync(long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT metric, key, SUM(value) FROM {Tables.StatsHourly} WHERE hour_ms >= @from AND hour_ms < @to GROUP BY metric, key ORDER BY metric, key";
        AddParameter(cmd, "from", fromMs - fromMs % HourMs);
        AddParameter(cmd, "to", toMs);
        return await ReadAllAsync(cmd, r => new StatTotal(r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken);
    }

    /// <summary>One metric's hourly values over [from, to): (hour, key, value), for the charts.</summary>
    public async Task<IReadOnlyList<(long HourMs, string Key, long Value)>> StatSeriesAsync(string metric, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT hour_ms, key, value FROM {Tables.StatsHourly} WHERE metric = @m AND hour_ms >= @from AND hour_ms < @to ORDER BY hour_ms, key";
        AddParameter(cmd, "m", metric);
        AddParameter(cmd, "from", fromMs - fromMs % HourMs);
        AddParameter(cmd, "to", toMs);
        return await ReadAllAsync(cmd, r => (r.GetInt64(0), r.GetString(1), r.GetInt64(2)), cancellationToken);
    }

    /// <summary>Revenue per day and currency of orders paid in [from, to) (gross, minor units), for the chart.</summary>
    public async Task<IReadOnlyList<(long DayMs, string Currency, long Amount)>> RevenueByDayAsync(long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT paid_ms - (paid_ms % 86400000) AS day, COALESCE(currency, 'XXX'), SUM(COALESCE(amount, 0) - refunded) FROM {Tables.OrderSummary} "
            + "WHERE test = 0 AND paid_ms >= @from AND paid_ms < @to AND status NOT IN ('pending', 'failed') GROUP BY day, currency ORDER BY day, 2";
        AddParameter(cmd, "from", fromMs);
        AddParameter(cmd, "to", toMs);
        return await ReadAllAsync(cmd, r => (r.GetInt64(0), r.GetString(1), r.GetInt64(2)), cancellationToken);
    }

    /// <summary>
    /// Lifetime revenue (paid less refunded, every order of theirs) of buyers grouped by their first
    /// or last touch's source and campaign; buyers with no touch come as (null, null).
    /// </summary>
    public async Task<IReadOnlyList<AttributedRevenue>> RevenueByTouchAsync(bool firstTouch, CancellationToken cancellationToken)
    {
        var (source, campaign) = firstTouch ? ("first_source", "first_campaign") : ("last_source", "last_campaign");
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT p.{source}, p.{campaign}, o.currency, COUNT(DISTINCT o.person_id), SUM(COALESCE(o.amount, 0) - o.refunded) "
            + $"FROM {Tables.OrderSummary} o JOIN {Tables.PersonSummary} p ON p.person_id = o.person_id "
            + "WHERE o.test = 0 AND o.paid_ms IS NOT NULL AND o.status NOT IN ('pending', 'failed') "
            + $"GROUP BY p.{source}, p.{campaign}, o.currency ORDER BY 5 DESC";
        return await ReadAllAsync(cmd, r => new AttributedRevenue(NullableString(r, 0), NullableString(r, 1), NullableString(r, 2), r.GetInt64(3), r.IsDBNull(4) ? 0 : r.GetInt64(4)), cancellationToken);
    }

    /// <summary>People newest first (first seen), paged by <paramref name="beforeMs"/>.</summary>
    public async Task<IReadOnlyList<PersonRow>> ListPeopleAsync(int limit, long? beforeMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT person_id, email, first_seen_ms, consent, first_source, order_count, test FROM {Tables.PersonSummary} "
            + (beforeMs is null ? "" : "WHERE first_seen_ms < @before ") + "ORDER BY first_seen_ms DESC, person_id LIMIT @limit";
        if (beforeMs is not null) AddParameter(cmd, "before", beforeMs.Value);
        AddParameter(cmd, "limit", limit);
        return await ReadAllAsync(cmd, r => new PersonRow(r.GetString(0), NullableString(r, 1), r.GetInt64(2), r.GetInt64(3) == 1, NullableString(r, 4), (int)r.GetInt64(5), r.GetInt64(6) == 1), cancellationToken);
    }

    /// <summary>When each source's newest stored event arrived (the (source, seq) index: one row each).</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> LastEventAtAsync(IEnumerable<string> sources, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var source in sources)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT received_at FROM {Tables.RawEvents} WHERE source = @s ORDER BY seq DESC LIMIT 1";
            AddParameter(cmd, "s", source);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken)) result[source] = reader.GetFieldValue<DateTimeOffset>(0);
        }
        return result;
    }
}
