using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Junction.Providers;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>One problem in a config file: the key path and what was expected there.</summary>
public sealed record ConfigError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}

/// <summary>
/// Reads <c>junction.yaml</c>. Walks the YAML tree by hand rather than deserializing into classes so
/// that every error can name its exact key path, and collects every error before failing.
/// </summary>
public static partial class ConfigLoader
{
    public const string StorageEnvironmentVariable = "JUNCTION_STORAGE";
    public const string DefaultStorage = "sqlite:./data/junction.db";

    /// <summary>The shortest admin token, API key or metrics token accepted.</summary>
    public const int MinBearerLength = 16;

    private static readonly string[] TopLevelKeys = ["storage", "admin", "api_keys", "metrics", "sources", "tags", "products", "ownership", "identity", "lifecycle", "destinations", "audits", "smoke", "alerts", "notifiers", "runbooks", "telemetry"];
    private static readonly string[] SourceKeys = ["provider", "secrets", "tolerance_seconds", "max_body_bytes"];

    public static JunctionConfig LoadFile(string path, Func<string, string?>? environment = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError("config", $"cannot read {path}: {ex.Message}")]);
        }
        return Parse(text, path, environment);
    }

    public static JunctionConfig Parse(string yaml, string? path, Func<string, string?>? environment = null)
    {
        var reader = new Reader(environment ?? Environment.GetEnvironmentVariable);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ConfigException([new ConfigError("config",
                $"not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}")]);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException([new ConfigError("config", "expected a mapping with at least 'storage' and 'sources'")]);
        }

        reader.RejectUnknownKeys(root, "", TopLevelKeys);

        var storage = (environment ?? Environment.GetEnvironmentVariable)(StorageEnvironmentVariable);
        var storagePath = StorageEnvironmentVariable;
        if (string.IsNullOrEmpty(storage))
        {
            storage = reader.OptionalString(root, "storage", "storage") ?? DefaultStorage;
            storagePath = "storage";
        }
        if (!StorageUri.TryParse(storage, out _, out var storageError))
        {
            reader.Error(storagePath, storageError);
        }

        var adminTokens = new List<AdminTokenEntry>();
        if (Reader.Child(root, "admin") is { } adminNode)
        {
            if (adminNode is YamlMappingNode admin)
            {
                reader.RejectUnknownKeys(admin, "admin", ["tokens"]);
                adminTokens = ReadAdminTokens(reader, admin);
            }
            else
            {
                reader.Error("admin", "expected a mapping with 'tokens'");
            }
        }

        // Bearer keys for POST /v1/events (the creator's own code); like admin tokens, from the environment.
        var apiKeys = reader.StringList(root, "api_keys", "api_keys", required: false);
        for (var i = 0; i < apiKeys.Count; i++)
        {
            if (apiKeys[i].Length is > 0 and < MinBearerLength) reader.Error($"api_keys[{i}]", $"expected a random key of at least {MinBearerLength} characters");
        }

        string? metricsToken = null;
        if (Reader.Child(root, "metrics") is { } metricsNode)
        {
            if (metricsNode is YamlMappingNode metrics)
            {
                reader.RejectUnknownKeys(metrics, "metrics", ["token"]);
                metricsToken = reader.OptionalString(metrics, "token", "metrics.token");
                if (metricsToken is { Length: < MinBearerLength })
                {
                    reader.Error("metrics.token", $"expected a random token of at least {MinBearerLength} characters");
                }
            }
            else
            {
                reader.Error("metrics", "expected a mapping with 'token'");
            }
        }

        var sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal);
        switch (Reader.Child(root, "sources"))
        {
            case null:
                reader.Error("sources", "expected a mapping of source ids to sources; none given");
                break;
            case YamlMappingNode map:
                foreach (var (keyNode, value) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } id })
                    {
                        reader.Error("sources", "expected source ids to be plain strings");
                        continue;
                    }
                    var source = ReadSource(reader, id, value);
                    if (source is not null) sources[id] = source;
                }
                break;
            default:
                reader.Error("sources", "expected a mapping of source ids to sources");
                break;
        }

        if (apiKeys.Count == 0 && sources.Values.FirstOrDefault(s => s.Provider == "api") is { } apiSource)
        {
            reader.Error("api_keys", $"required because sources.{apiSource.Id} has provider api; expected a list of keys, e.g. [\"${{JUNCTION_API_KEY}}\"]");
        }
        var policy = ReadPolicy(reader, root, sources);
        var destinations = ReadDestinations(reader, root, policy);
        var audits = ReadAudits(reader, root);
        var smoke = ReadSmoke(reader, root, sources, policy);
        var alerts = ReadAlerts(reader, root, destinations);
        var otlpEndpoint = ReadTelemetry(reader, root);

        if (reader.Errors.Count > 0) throw new ConfigException(reader.Errors);

        return new JunctionConfig
        {
            Policy = policy,
            Destinations = destinations,
            Audits = audits,
            Smoke = smoke,
            Alerts = alerts,
            Storage = storage,
            Admin = AdminConfig.WithRoles(adminTokens),
            ApiKeys = apiKeys,
            MetricsToken = metricsToken,
            OtlpEndpoint = otlpEndpoint,
            Sources = sources,
            Path = path,
        };
    }

    private static SourceConfig? ReadSource(Reader reader, string id, YamlNode node)
    {
        var path = $"sources.{id}";
        if (!SourceIdPattern().IsMatch(id))
        {
            reader.Error(path, "a source id is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit");
        }
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, "expected a mapping with 'provider' and 'secrets'");
            return null;
        }
        var provider = reader.OptionalString(map, "provider", $"{path}.provider");
        IWebhookProvider? impl = null;
        if (provider is null)
        {
            reader.Error($"{path}.provider", $"required; expected one of {string.Join(", ", ProviderRegistry.Names)}");
        }
        else if (!ProviderRegistry.TryGet(provider, out impl))
        {
            reader.Error($"{path}.provider", $"expected one of {string.Join(", ", ProviderRegistry.Names)}; got '{provider}'");
        }
        var optionKeys = impl?.Options.Select(o => o.Key).ToArray() ?? [];
        reader.RejectUnknownKeys(map, path, impl is null ? [.. SourceKeys, .. AllOptionKeys()] : [.. SourceKeys, .. optionKeys]);

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in impl?.Options ?? [])
        {
            if (option.IsList)
            {
                if (Reader.Child(map, option.Key) is not null)
                {
                    options[option.Key] = string.Join('\n', reader.StringList(map, option.Key, $"{path}.{option.Key}", required: false));
                }
                continue;
            }
            var value = reader.OptionalString(map, option.Key, $"{path}.{option.Key}");
            if (value is { Length: > 0 }) options[option.Key] = value;
            else if (option.Required && Reader.Child(map, option.Key) is null) reader.Error($"{path}.{option.Key}", $"required for provider {impl!.Name}; expected {option.Expected}");
        }
        // OAuth client credentials come in pairs: one without the other can neither enrich nor verify.
        if (optionKeys.Contains("client_id") && optionKeys.Contains("client_secret")
            && options.ContainsKey("client_id") != options.ContainsKey("client_secret"))
        {
            var missing = options.ContainsKey("client_id") ? "client_secret" : "client_id";
            var given = missing == "client_id" ? "client_secret" : "client_id";
            reader.Error($"{path}.{missing}", $"required when {given} is set; expected both client_id and client_secret of the REST app");
        }

        if (impl is IValidatesOptions check)
        {
            foreach (var (key, problem) in check.ValidateOptions(options)) reader.Error($"{path}.{key}", problem);
        }

        var secrets = reader.StringList(map, "secrets", $"{path}.secrets", required: impl?.RequiresSecrets ?? true);
        if (impl is not null)
        {
            for (var i = 0; i < secrets.Count; i++)
            {
                if (secrets[i].Length == 0) continue; // already reported
                if (impl.ValidateSecret(secrets[i]) is { } problem) reader.Error($"{path}.secrets[{i}]", problem);
            }
        }

        var tolerance = reader.OptionalInt(map, "tolerance_seconds", $"{path}.tolerance_seconds", 1, 86_400)
            ?? SourceConfig.DefaultToleranceSeconds;
        var maxBody = reader.OptionalInt(map, "max_body_bytes", $"{path}.max_body_bytes", 1, 64 * 1024 * 1024)
            ?? SourceConfig.DefaultMaxBodyBytes;

        return new SourceConfig
        {
            Id = id,
            Provider = provider ?? "",
            Secrets = secrets,
            ToleranceSeconds = tolerance,
            MaxBodyBytes = maxBody,
            Options = options,
        };
    }

    private static IEnumerable<string> AllOptionKeys() =>
        ProviderRegistry.All.SelectMany(p => p.Options.Select(o => o.Key)).Distinct(StringComparer.Ordinal);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex SourceIdPattern();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex EnvReference();

    private sealed class Reader(Func<string, string?> environment)
    {
        public List<ConfigError> Errors { get; } = [];

        public void Error(string path, string message) => Errors.Add(new ConfigError(path, message));

        public static YamlNode? Child(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        public void RejectUnknownKeys(YamlMappingNode map, string path, string[] known)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? key.ToString();
                if (Array.IndexOf(known, name) < 0)
                {
                    Error(path.Length == 0 ? name : $"{path}.{name}", $"unknown key; expected one of {string.Join(", ", known)}");
                }
            }
        }

        public string? OptionalString(YamlMappingNode map, string key, string path)
        {
            var node = Child(map, key);
            if (node is null) return null;
            if (node is not YamlScalarNode scalar)
            {
                Error(path, "expected a string");
                return null;
            }
            return Expand(scalar.Value ?? "", path);
        }

        public int? OptionalInt(YamlMappingNode map, string key, string path, int min, int max)
        {
            var text = OptionalString(map, key, path);
            if (text is null) return null;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                Error(path, $"expected a whole number from {min} to {max}; got '{text}'");
                return null;
            }
            return value;
        }

        public List<string> StringList(YamlMappingNode map, string key, string path, bool required)
        {
            var result = new List<string>();
            var node = Child(map, key);
            if (node is null)
            {
                if (required) Error(path, "required; expected a list of at least one string");
                return result;
            }
            if (node is not YamlSequenceNode seq)
            {
                Error(path, "expected a list of strings, e.g. [\"${SECRET}\"]");
                return result;
            }
            if (required && seq.Children.Count == 0) Error(path, "expected a list of at least one string; got an empty list");
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var itemPath = $"{path}[{i}]";
                // Skipped items keep their place (as ""), so later checks report the right index.
                if (seq.Children[i] is not YamlScalarNode scalar)
                {
                    Error(itemPath, "expected a string");
                    result.Add("");
                    continue;
                }
                var value = Expand(scalar.Value ?? "", itemPath);
                if (value is null)
                {
                    result.Add("");
                    continue;
                }
                if (value.Length == 0)
                {
                    Error(itemPath, "expected a non-empty string");
                }
                result.Add(value);
            }
            return result;
        }

        /// <summary>Replaces <c>${NAME}</c> from the environment; a missing variable is an error at this path.</summary>
        public string? Expand(string value, string path)
        {
            if (!value.Contains("${", StringComparison.Ordinal)) return value;
            var ok = true;
            var expanded = EnvReference().Replace(value, m =>
            {
                var name = m.Groups[1].Value;
                var v = environment(name);
                if (v is null)
                {
                    Error(path, $"environment variable {name} is not set");
                    ok = false;
                    return "";
                }
                return v;
            });
            return ok ? expanded : null;
        }
    }
}
