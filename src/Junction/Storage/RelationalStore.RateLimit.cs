using System.Data;
using System.Globalization;

namespace Junction.Storage;

// The cluster-wide send-rate bucket (migration 0017). Every node's dispatcher takes its tokens here, so
// a destination's rate limit holds for the cluster as a whole rather than per node. One upsert per take:
// the row is locked by the statement itself (PostgreSQL's ON CONFLICT DO UPDATE; SQLite's one writer),
// so two nodes never spend the same token.
public abstract partial class RelationalStore
{
    /// <summary>The engine's two-argument minimum (LEAST on PostgreSQL, MIN on SQLite).</summary>
    protected virtual string Least => "MIN";

    /// <summary>The engine's two-argument maximum (GREATEST on PostgreSQL, MAX on SQLite).</summary>
    protected virtual string Greatest => "MAX";

    /// <summary>Rounds a non-negative number down (SQLite has no FLOOR without its math extension; CAST truncates).</summary>
    protected virtual string Floor(string expression) => $"CAST({expression} AS INTEGER)";

    public async Task<RateGrant> TakeRateTokensAsync(string destination, double ratePerSecond, double burst, int want,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(want);
        var t = Tables.RateBuckets;
        // The bucket after refilling for the time since the last take; a clock behind the last take refills nothing.
        var refilled = $"{Least}(@burst, {t}.tokens + {Greatest}(0, @now - {t}.updated_at) * @rate / 1000.0)";
        var grant = $"{Least}(@want, {Floor(refilled)})";
        var fresh = $"{Least}(@want, {Floor("@burst")})";
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText =
            $"""
            INSERT INTO {t} (destination, tokens, last_grant, updated_at) VALUES (@destination, @burst - {fresh}, {fresh}, @now)
            ON CONFLICT (destination) DO UPDATE SET
                tokens = {refilled} - {grant},
                last_grant = {grant},
                updated_at = {Greatest}({t}.updated_at, @now)
            RETURNING last_grant, tokens
            """;
        Typed(cmd, "destination", DbType.String, destination);
        Typed(cmd, "rate", DbType.Double, ratePerSecond);
        Typed(cmd, "burst", DbType.Double, burst);
        Typed(cmd, "want", DbType.Int64, (long)want);
        Typed(cmd, "now", DbType.Int64, NowMs);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) throw new InvalidOperationException("the rate bucket upsert returned no row");
        var granted = Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture);
        var left = Convert.ToDouble(reader.GetValue(1), CultureInfo.InvariantCulture);
        return new RateGrant((int)Math.Round(granted), left);
    }
}
