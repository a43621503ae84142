using System.Globalization;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Integrations;
using Junction.State;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>
/// <c>destinations:</c> — where person state and events are delivered. Same rules as the rest of the
/// loader: every error names its key path and what was expected, and all are collected.
/// </summary>
public static partial class ConfigLoader
{
    // Every key any destination type accepts: one that does not apply to this type gets "does not apply" rather than "unknown".
    private static IReadOnlyList<string> DestinationKeys => [.. IntegrationRegistry.Destinations.SelectMany(d => d.Keys).Distinct(StringComparer.Ordinal)];

    private static readonly string[] RetryKeys = ["max_age", "base_delay"];

    private static Dictionary<string, DestinationConfig> ReadDestinations(Reader reader, YamlMappingNode root, Policy policy)
    {
        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
        switch (Reader.Child(root, "destinations"))
        {
            case null:
                break;
            case YamlMappingNode map:
                foreach (var (keyNode, value) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } id })
                    {
                        reader.Error("destinations", "expected destination ids to be plain strings");
                        continue;
                    }
                    if (ReadDestination(reader, id, value, policy) is { } destination) destinations[id] = destination;
                }
                break;
            default:
                reader.Error("destinations", "expected a mapping of destination ids to destinations, e.g. email-main: { type: <a destination type>, credentials: { api_key: ${EMAIL_API_KEY} } }");
                break;
        }
        return destinations;
    }

    private static DestinationConfig? ReadDestination(Reader reader, string id, YamlNode node, Policy policy)
    {
        var path = $"destinations.{id}";
        var types = string.Join(", ", IntegrationRegistry.Destinations.Select(d => d.Type));
        if (!SourceIdPattern().IsMatch(id))
        {
            reader.Error(path, "a destination id is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit");
        }
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, $"expected a mapping with 'type' ({types}) and 'credentials'");
            return null;
        }

        var type = reader.OptionalString(map, "type", $"{path}.type");
        DestinationDescriptor? kind = null;
        if (type is null) reader.Error($"{path}.type", $"required; expected one of {types}");
        else if ((kind = IntegrationRegistry.Destination(type)) is null) reader.Error($"{path}.type", $"expected one of {types}; got '{type}'");

        if (kind is null)
        {
            reader.RejectUnknownKeys(map, path, [.. DestinationKeys]);
        }
        else
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? key.ToString();
                if (kind.Keys.Contains(name)) continue;
                reader.Error($"{path}.{name}", DestinationKeys.Contains(name)
                    ? $"does not apply to type {type}; expected one of {string.Join(", ", kind.Keys)}"
                    : $"unknown key; expected one of {string.Join(", ", kind.Keys)}");
            }
        }

        var credentials = ReadStringMap(reader, map, "credentials", $"{path}.credentials", "api_key: ${API_KEY}");
        if (kind is not null)
        {
            foreach (var name in credentials.Keys)
            {
                if (!kind.Credentials.Contains(name))
                {
                    reader.Error($"{path}.credentials.{name}", $"unknown credential for type {type}; expected {string.Join(", ", kind.Credentials)}");
                }
            }
            foreach (var name in kind.Credentials)
            {
                if (!credentials.ContainsKey(name) && !HasChildPath(map, "credentials", name))
                {
                    reader.Error($"{path}.credentials.{name}", $"required for type {type}; expected a value from the environment, e.g. {name}: ${{{EnvName(id, name)}}}");
                }
            }
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in kind?.RequiredOptions ?? [])
        {
            var value = reader.OptionalString(map, option, $"{path}.{option}");
            if (value is { Length: > 0 }) options[option] = value;
            else if (value is null && Reader.Child(map, option) is null) reader.Error($"{path}.{option}", $"required for type {type}");
            else if (value is { Length: 0 }) reader.Error($"{path}.{option}", "expected a non-empty id");
        }
        foreach (var option in kind?.OptionalOptions ?? [])
        {
            var value = reader.OptionalString(map, option, $"{path}.{option}");
            if (value is { Length: > 0 }) options[option] = value;
            else if (value is { Length: 0 }) reader.Error($"{path}.{option}", "expected a non-empty id");
        }

        if (kind?.ValidateOptions is { } validate)
        {
            foreach (var (key, problem) in validate(options)) reader.Error($"{path}.{key}", problem);
        }

        foreach (var flag in kind?.FlagOptions ?? [])
        {
            switch (reader.OptionalString(map, flag, $"{path}.{flag}"))
            {
                case null:
                    break;
                case "true":
                    options[flag] = "true";
                    break;
                case "false":
                    options[flag] = "false";
                    break;
                case var other:
                    reader.Error($"{path}.{flag}", $"expected true or false; got '{other}'");
                    break;
            }
        }

        var baseUrl = ReadBaseUrl(reader, map, path, type, kind, credentials);

        var rate = kind?.DefaultRate ?? 1;
        if (reader.OptionalString(map, "rate_limit", $"{path}.rate_limit") is { } rateText)
        {
            if (double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r > 0 && r <= 10_000 && double.IsFinite(r))
            {
                rate = r;
            }
            else
            {
                reader.Error($"{path}.rate_limit", $"expected requests per second, a positive number up to 10000 (e.g. 2 or 0.5); got '{rateText}'");
            }
        }

        var maxAge = TimeSpan.FromHours(24);
        var baseDelay = TimeSpan.FromSeconds(1);
        switch (Reader.Child(map, "retry"))
        {
            case null:
                break;
            case YamlMappingNode retry:
                reader.RejectUnknownKeys(retry, $"{path}.retry", RetryKeys);
                maxAge = ReadDuration(reader, retry, "max_age", $"{path}.retry.max_age") ?? maxAge;
                baseDelay = ReadDuration(reader, retry, "base_delay", $"{path}.retry.base_delay") ?? baseDelay;
                if (baseDelay > maxAge) reader.Error($"{path}.retry.base_delay", $"expected a delay shorter than max_age ({Durations.Format(maxAge)})");
                break;
            default:
                reader.Error($"{path}.retry", "expected a mapping like { max_age: 24h, base_delay: 1s }");
                break;
        }

        var tags = ReadStringMap(reader, map, "tags", $"{path}.tags", "\"paid:course-pro\": \"Customer - Course Pro\"");
        foreach (var tag in tags.Keys)
        {
            if (!policy.Tags.Contains(tag)) reader.Error($"{path}.tags.{tag}", $"tag '{tag}' is not in tags:");
        }

        var fields = ReadStringMap(reader, map, "fields", $"{path}.fields", "ltv_usd: lifetime_value");
        foreach (var field in fields.Keys)
        {
            if (!PersonFields.IsKnown(field))
            {
                reader.Error($"{path}.fields.{field}",
                    $"unknown person field; expected one of {string.Join(", ", PersonFields.Plain.Order(StringComparer.Ordinal))}, or ltv_, spent_ or refunded_ with a currency (e.g. ltv_usd)");
            }
        }

        var courses = ReadStringMap(reader, map, "courses", $"{path}.courses", "course-pro: \"1234567\"");
        foreach (var product in courses.Keys)
        {
            if (!policy.Products.Any(p => p.Id == product)) reader.Error($"{path}.courses.{product}", $"product '{product}' is not in products:");
        }

        var events = new List<string>();
        if (Reader.Child(map, "events") is not null)
        {
            var list = reader.StringList(map, "events", $"{path}.events", required: false);
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Length == 0) continue; // already reported
                if (!EventTypes.All.Contains(list[i]))
                {
                    reader.Error($"{path}.events[{i}]", $"expected a canonical event type (e.g. order.paid, order.refunded, optin); got '{list[i]}'");
                }
                else if (!events.Contains(list[i]))
                {
                    events.Add(list[i]);
                }
            }
        }

        var traits = kind is null ? null : kind.TraitsWith?.Invoke(options) ?? kind.Traits;
        var batch = kind is null || traits is null ? null : ReadDelivery(reader, map, path, type!, kind, traits);

        if (kind is null || type is null || baseUrl is null || traits is null) return null;
        return new DestinationConfig
        {
            Id = id,
            Type = type,
            Traits = traits,
            BaseUrl = baseUrl,
            Credentials = credentials,
            RateLimit = rate,
            RetryMaxAge = maxAge,
            RetryBaseDelay = baseDelay,
            Tags = tags,
            Fields = fields,
            Courses = courses,
            Events = events,
            Options = options,
            Batch = batch,
        };
    }

    private static readonly string[] BatchKeys = ["max", "every"];

    /// <summary>
    /// <c>delivery: realtime | batch</c> and <c>batch: { max, every }</c> (R5.6), for destinations that
    /// receive events. Null: each event at once.
    /// </summary>
    private static DeliveryBatch? ReadDelivery(Reader reader, YamlMappingNode map, string path, string type, DestinationDescriptor kind,
        DestinationTraits traits)
    {
        var hasDelivery = Reader.Child(map, "delivery") is not null;
        var hasBatch = Reader.Child(map, "batch") is not null;
        if (!traits.Events)
        {
            // A type that never receives events has these keys reported as not applying already.
            if (!kind.MayReceiveEvents) return null;
            // A type that receives events only with some options (a CRM's deals: true) and is configured without them.
            const string Problem = "applies only when the destination receives events; with the options set here, type {0} does not";
            if (hasDelivery) reader.Error($"{path}.delivery", string.Format(CultureInfo.InvariantCulture, Problem, type));
            if (hasBatch) reader.Error($"{path}.batch", string.Format(CultureInfo.InvariantCulture, Problem, type));
            return null;
        }

        var batched = traits.BatchByDefault;
        switch (reader.OptionalString(map, "delivery", $"{path}.delivery"))
        {
            case null:
                break;
            case "realtime":
                batched = false;
                break;
            case "batch":
                batched = true;
                break;
            case var other:
                reader.Error($"{path}.delivery", $"expected realtime or batch; got '{other}'");
                break;
        }

        var limit = kind.MaxBatch;
        // By default as many as the API takes in one request.
        var max = limit ?? DeliveryBatch.DefaultMax;
        var every = DeliveryBatch.DefaultEvery;
        switch (Reader.Child(map, "batch"))
        {
            case null:
                break;
            case YamlMappingNode settings:
                if (!batched) reader.Error($"{path}.batch", "applies only with delivery: batch; expected delivery: batch, or no batch: key");
                reader.RejectUnknownKeys(settings, $"{path}.batch", BatchKeys);
                var ceiling = limit ?? 10_000;
                var what = limit is null ? $"a whole number of events from 1 to {ceiling}" : $"a whole number of events from 1 to {ceiling} (the {type} API's limit per request)";
                if (reader.OptionalString(settings, "max", $"{path}.batch.max") is { } maxText)
                {
                    if (int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m >= 1 && m <= ceiling) max = m;
                    else reader.Error($"{path}.batch.max", $"expected {what}; got '{maxText}'");
                }
                if (ReadDuration(reader, settings, "every", $"{path}.batch.every") is { } e)
                {
                    if (e > TimeSpan.Zero && e <= TimeSpan.FromHours(1)) every = e;
                    else reader.Error($"{path}.batch.every", $"expected a duration from 1s to 1h (e.g. 30s); got '{Durations.Format(e)}'");
                }
                break;
            default:
                reader.Error($"{path}.batch", "expected a mapping like { max: 25, every: 30s }");
                break;
        }
        return batched ? new DeliveryBatch { Max = max, Every = every } : null;
    }

    private static Uri? ReadBaseUrl(Reader reader, YamlMappingNode map, string path, string? type, DestinationDescriptor? kind, Dictionary<string, string> credentials)
    {
        var text = reader.OptionalString(map, "base_url", $"{path}.base_url");
        if (text is not null)
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                && uri.Host.Length > 0 && string.IsNullOrEmpty(uri.UserInfo))
            {
                return uri;
            }
            reader.Error($"{path}.base_url", $"expected an absolute http(s) URL; got '{text}'");
            return null;
        }
        if (Reader.Child(map, "base_url") is not null || kind is null) return null; // already reported
        if (kind.DefaultBaseUrl is { } known) return new Uri(known);
        if (kind.BaseUrlFrom is { } rule)
        {
            var (url, key, problem) = rule(credentials);
            if (url is not null) return url;
            if (key is not null) reader.Error($"{path}.credentials.{key}", problem ?? "expected a usable credential, or set base_url");
            return null;
        }
        reader.Error($"{path}.base_url", $"required for type {type}; expected {kind.BaseUrlExpected}");
        return null;
    }

    /// <summary>A mapping of plain string keys to (environment-expanded) non-empty strings.</summary>
    private static Dictionary<string, string> ReadStringMap(Reader reader, YamlMappingNode parent, string key, string path, string example)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Reader.Child(parent, key))
        {
            case null:
                return result;
            case YamlMappingNode map:
                foreach (var (keyNode, _) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { Length: > 0 } name })
                    {
                        reader.Error(path, "expected plain string keys");
                        continue;
                    }
                    var value = reader.OptionalString(map, name, $"{path}.{name}");
                    if (value is null) continue; // already reported
                    if (value.Length == 0) reader.Error($"{path}.{name}", "expected a non-empty string");
                    else result[name] = value;
                }
                return result;
            default:
                reader.Error(path, $"expected a mapping, e.g. {{ {example} }}");
                return result;
        }
    }

    private static bool HasChildPath(YamlMappingNode map, string key, string child) =>
        Reader.Child(map, key) is YamlMappingNode inner && Reader.Child(inner, child) is not null;

    private static string EnvName(string id, string credential) =>
        (id.Replace('-', '_') + "_" + credential).ToUpperInvariant();
}
