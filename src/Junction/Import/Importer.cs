using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Storage;
using nietras.SeparatedValues;

namespace Junction.Import;

/// <summary>What <c>--map</c> and the file's header said, checked before any row is read.</summary>
public sealed class ImportSetupException(string message) : Exception(message);

/// <summary>A row that was not imported: its number in the file (the header is row 1) and why. Never its email.</summary>
public readonly record struct ImportRefusal(long Row, string Reason);

public sealed record ImportReport(long Rows, long Imported, long Unchanged, long Refused, IReadOnlyList<string> UnusedColumns);

/// <summary>
/// Reads a subscriber export row by row (streamed: memory does not grow with the file) and appends
/// each accepted row as one raw event of the import source, <see cref="BatchSize"/> rows a
/// transaction. The dedup key is a hash of the row as stored (email and every value), so a second
/// run of the same file appends nothing and counts every row as unchanged, while a row whose data
/// changed since is imported again. Normalization then makes the canonical events (<see cref="ImportMapper"/>).
/// </summary>
public sealed class Importer(IJunctionStore store, JunctionConfig config, TimeProvider time)
{
    public const int BatchSize = 1000;

    public async Task<ImportReport> RunAsync(string path, SubscriberExport layout, string sourceId, IReadOnlyDictionary<string, string> map,
        bool skipUnknownTags, Action<ImportRefusal> refused, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(refused);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = true }).FromFile(path);
        var columns = Resolve(reader.Header.ColNames, layout, map, out var unused);
        var rows = new RowReader(columns, layout, config, skipUnknownTags);
        long read = 0, imported = 0, unchanged = 0, refusedCount = 0;
        var batch = new List<RawEventDraft>(BatchSize);
        var refusals = new List<ImportRefusal>();
        while (true)
        {
            var more = ReadBatch(reader, rows, sourceId, batch, refusals, ref read);
            foreach (var r in refusals) refused(r);
            refusedCount += refusals.Count;
            refusals.Clear();
            if (batch.Count > 0)
            {
                var outcomes = await store.AppendRawAsync(batch, cancellationToken);
                var fresh = outcomes.Count(o => !o.Duplicate);
                imported += fresh;
                unchanged += outcomes.Count - fresh;
                batch.Clear();
            }
            progress?.Report(read);
            if (!more) break;
        }
        return new ImportReport(read, imported, unchanged, refusedCount, unused);
    }

    // Synchronous: Sep's rows are ref structs and must not live across an await.
    private bool ReadBatch(SepReader reader, RowReader rows, string sourceId, List<RawEventDraft> batch, List<ImportRefusal> refusals, ref long read)
    {
        var now = time.GetUtcNow();
        var values = new string?[rows.Width];
        while (batch.Count < BatchSize)
        {
            if (!reader.MoveNext()) return false;
            var row = reader.Current;
            read++;
            var number = read + 1; // the header is row 1
            Array.Clear(values);
            for (var i = 0; i < values.Length && i < row.ColCount; i++) values[i] = row[i].ToString();
            if (values.All(string.IsNullOrWhiteSpace)) continue; // a blank line is not a row anyone meant
            if (rows.Read(values, out var reason) is not { } record)
            {
                refusals.Add(new ImportRefusal(number, reason!));
                continue;
            }
            var body = JsonSerializer.SerializeToUtf8Bytes(record, ImportJson.Default.ImportRecord);
            var sha = Convert.ToHexStringLower(SHA256.HashData(body));
            batch.Add(new RawEventDraft(Guid.CreateVersion7(now).ToString(), sourceId, "row:" + sha, now,
                System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString(), "application/json", "{}", body, sha));
        }
        return true;
    }

    /// <summary>Column index → field, from the layout's names and <c>--map</c> (which wins); every problem in one exception.</summary>
    internal static string?[] Resolve(IReadOnlyList<string> header, SubscriberExport layout, IReadOnlyDictionary<string, string> map, out List<string> unused)
    {
        var problems = new List<string>();
        foreach (var (column, field) in map)
        {
            if (!header.Any(h => string.Equals(h.Trim(), column, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"--map {column}={field}: the file has no column '{column}'; its columns are {string.Join(", ", header.Select(h => $"'{h}'"))}");
            }
            if (!ImportFields.IsKnown(field))
            {
                problems.Add($"--map {column}={field}: expected one of {string.Join(", ", ImportFields.All)} or {ImportFields.CustomPrefix}NAME");
            }
        }
        var fields = new string?[header.Count];
        unused = [];
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim();
            var mapped = map.FirstOrDefault(m => string.Equals(m.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
            fields[i] = mapped ?? (layout.Columns.TryGetValue(name, out var f) ? f : null);
            if (fields[i] is null) unused.Add(name);
            if (fields[i] == ImportFields.Ignore) fields[i] = null;
        }
        if (!fields.Contains(ImportFields.Email))
        {
            problems.Add($"the header has no email column (for --from {layout.Name}: {string.Join(" or ", layout.Columns.Where(c => c.Value == ImportFields.Email).Select(c => $"'{c.Key}'"))}); "
                + "name yours with --map COLUMN=email");
        }
        foreach (var twice in fields.OfType<string>().Where(f => !f.StartsWith(ImportFields.CustomPrefix, StringComparison.Ordinal)).GroupBy(f => f, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            // Kit's two names for the email are alternatives; a file with both would be ambiguous.
            problems.Add($"two columns are mapped to {twice.Key}; keep one (--map COLUMN=ignore for the other)");
        }
        if (problems.Count > 0) throw new ImportSetupException(string.Join("\n", problems));
        return fields;
    }

    /// <summary>One row's values → an <see cref="ImportRecord"/>, or the reason it is refused.</summary>
    private sealed class RowReader
    {
        private readonly string?[] _fields;
        private readonly SubscriberExport _layout;
        private readonly IReadOnlySet<string> _vocabulary;
        private readonly Dictionary<string, string> _remoteTags = new(StringComparer.OrdinalIgnoreCase);
        private readonly bool _skipUnknownTags;

        public RowReader(string?[] fields, SubscriberExport layout, JunctionConfig config, bool skipUnknownTags)
        {
            _fields = fields;
            _layout = layout;
            _vocabulary = config.Policy.Tags;
            _skipUnknownTags = skipUnknownTags;
            // A destination of this tool maps vocabulary tag → the tool's tag name; read backwards, the export's names come home.
            foreach (var d in config.Destinations.Values.Where(d => string.Equals(d.Type, layout.DestinationType, StringComparison.Ordinal)))
            {
                foreach (var (tag, remote) in d.Tags) _remoteTags.TryAdd(remote, tag);
            }
        }

        public int Width => _fields.Length;

        public ImportRecord? Read(string?[] values, out string? reason)
        {
            reason = null;
            string? Get(string field)
            {
                for (var i = 0; i < _fields.Length; i++)
                {
                    if (_fields[i] == field && values[i] is { } v && v.Trim() is { Length: > 0 } t) return t;
                }
                return null;
            }
            var problems = new List<string>();

            var email = Get(ImportFields.Email);
            if (email is null) problems.Add("email: empty");
            else if (Identifiers.NormalizeEmail(email) is null) problems.Add("email: not an email address");

            var name = Get(ImportFields.Name)
                ?? (string.Join(' ', new[] { Get(ImportFields.FirstName), Get(ImportFields.LastName) }.OfType<string>()) is { Length: > 0 } joined ? joined : null);

            string? phone = null;
            if (Get(ImportFields.Phone) is { } rawPhone)
            {
                phone = Identifiers.NormalizePhone(rawPhone);
                if (phone is null && _layout.StrictPhone) problems.Add("phone: expected an E.164 number with its country code, e.g. +12125550100");
            }

            DateTimeOffset? Time(string field)
            {
                if (Get(field) is not { } text) return null;
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
                problems.Add($"{field}: expected an ISO-8601 time, e.g. 2024-05-01T09:30:00Z");
                return null;
            }
            var consentedAt = Time(ImportFields.ConsentedAt);
            var confirmedAt = Time(ImportFields.ConfirmedAt);
            var createdAt = Time(ImportFields.CreatedAt);
            var unsubscribedAt = Time(ImportFields.UnsubscribedAt);
            var cleanedAt = Time(ImportFields.CleanedAt);

            bool? consent = _layout.DefaultConsent;
            bool? confirmed = null;
            if (Get(ImportFields.Status) is { } status)
            {
                if (_layout.Statuses.TryGetValue(status.ToLowerInvariant(), out var reading))
                {
                    consent = reading.Consent;
                    confirmed = reading.Confirmed;
                }
                else
                {
                    problems.Add($"status: expected one of {string.Join(", ", _layout.Statuses.Keys)}; got '{Clip(status)}'");
                }
            }
            if (Get(ImportFields.ConsentEmail) is { } given)
            {
                if (bool.TryParse(given, out var b)) consent = b;
                else problems.Add($"consent_email: expected true or false; got '{Clip(given)}'");
            }
            if (unsubscribedAt is not null) consent = false;
            else if (cleanedAt is not null && Get(ImportFields.Status) is null && Get(ImportFields.ConsentEmail) is null) consent = null;
            if (confirmedAt is not null && consent is true) confirmed = true;

            var tags = new SortedSet<string>(StringComparer.Ordinal);
            var unknown = new List<string>();
            if (Get(ImportFields.Tags) is { } list)
            {
                foreach (var piece in list.Split(_layout.TagSeparator))
                {
                    // Mailchimp quotes each name inside the cell ("a","b").
                    var tag = piece.Trim().Trim('"').Trim();
                    if (tag.Length == 0) continue;
                    if (_vocabulary.Contains(tag)) tags.Add(tag);
                    else if (_remoteTags.TryGetValue(tag, out var mapped)) tags.Add(mapped);
                    else unknown.Add(tag);
                }
            }
            if (unknown.Count > 0 && !_skipUnknownTags)
            {
                problems.Add($"tags: {string.Join(", ", unknown.Select(t => $"'{Clip(t)}'"))} not in the tag vocabulary (tags:)"
                    + (_layout.DestinationType is null ? "" : $" nor in the tags: map of a {_layout.DestinationType} destination"));
            }

            var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < _fields.Length; i++)
            {
                if (_fields[i] is { } f && f.StartsWith(ImportFields.CustomPrefix, StringComparison.Ordinal) && values[i] is { } v && v.Trim() is { Length: > 0 } t)
                {
                    fields[f[ImportFields.CustomPrefix.Length..]] = t;
                }
            }

            if (problems.Count > 0)
            {
                reason = string.Join("; ", problems);
                return null;
            }
            return new ImportRecord
            {
                Format = _layout.Name,
                Email = email!,
                Name = name,
                Phone = phone,
                ConsentEmail = consent,
                // The opt-in happened when they joined; a confirmation only confirms it.
                ConsentedAt = consent is false ? unsubscribedAt ?? consentedAt : consentedAt ?? createdAt ?? confirmedAt,
                Confirmed = consent is true ? confirmed : null,
                CreatedAt = createdAt,
                Tags = [.. tags],
                Fields = fields.Count > 0 ? fields : null,
            };
        }

        // A value quoted back in a reason is masked where it looks like an email (a shifted column can hold one).
        private static string Clip(string s) => Observability.Pii.Redact(s.Length <= 40 ? s : s[..40] + "…")!;
    }
}
