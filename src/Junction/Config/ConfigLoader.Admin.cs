using System.Text.RegularExpressions;
using Junction.Admin;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>
/// <c>admin.tokens</c>: each item a bare token (an admin, as before roles existed) or
/// <c>{token, role, name}</c>. Errors name their key path.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly string[] AdminTokenKeys = ["token", "role", "name"];

    /// <summary>The actor the CLI's state-changing verbs record; no token may take it.</summary>
    public const string CliActor = "cli";

    private static List<AdminTokenEntry> ReadAdminTokens(Reader reader, YamlMappingNode admin)
    {
        var entries = new List<AdminTokenEntry>();
        var node = Reader.Child(admin, "tokens");
        if (node is null) return entries;
        if (node is not YamlSequenceNode seq)
        {
            reader.Error("admin.tokens", "expected a list of tokens, each a string or {token, role, name}");
            return entries;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var path = $"admin.tokens[{i}]";
            string? token;
            var tokenPath = path;
            var role = AdminRole.Admin;
            var name = AdminTokenEntry.DefaultName(i);
            switch (seq.Children[i])
            {
                case YamlScalarNode scalar:
                    token = reader.Expand(scalar.Value ?? "", path);
                    break;
                case YamlMappingNode map:
                    reader.RejectUnknownKeys(map, path, AdminTokenKeys);
                    tokenPath = $"{path}.token";
                    token = reader.OptionalString(map, "token", tokenPath);
                    if (token is null && Reader.Child(map, "token") is null) reader.Error(tokenPath, "required; expected the token, e.g. \"${JUNCTION_VIEWER_TOKEN}\"");
                    if (reader.OptionalString(map, "role", $"{path}.role") is { } roleText && !AdminRoles.TryParse(roleText, out role))
                    {
                        reader.Error($"{path}.role", $"expected viewer, operator or admin; got '{roleText}'");
                    }
                    if (reader.OptionalString(map, "name", $"{path}.name") is { } given)
                    {
                        if (!TokenNamePattern().IsMatch(given)) reader.Error($"{path}.name", $"expected a short name of letters, digits, '.', '_' or '-' (it is recorded as the actor); got '{Observability.Pii.MaskEmail(given)}'");
                        else if (given == CliActor) reader.Error($"{path}.name", $"'{CliActor}' is the actor the command line records; choose another name");
                        name = given;
                    }
                    break;
                default:
                    reader.Error(path, "expected a token string or a mapping {token, role, name}");
                    continue;
            }
            if (token is null) continue;
            // Same floor as api_keys: even a viewer token reads every person's state.
            if (token.Length < MinBearerLength)
            {
                reader.Error(tokenPath, $"expected a random token of at least {MinBearerLength} characters");
                continue;
            }
            if (entries.FindIndex(e => string.Equals(e.Token, token, StringComparison.Ordinal)) is var same and >= 0)
            {
                reader.Error(tokenPath, $"the same token as an earlier entry ('{entries[same].Name}'); each token has one role");
                continue;
            }
            if (entries.Any(e => e.Name == name))
            {
                reader.Error($"{path}.name", $"'{name}' names an earlier token too; names must be unique, they say who did what");
                continue;
            }
            entries.Add(new AdminTokenEntry(token, role, name));
        }
        return entries;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex TokenNamePattern();
}
