using System.Text;
using System.Text.RegularExpressions;
using Junction.Integrations;
using Junction.Providers;

namespace Junction.Tests.Integrations;

/// <summary>
/// The design promise (../shared/DESIGN.md, docs/integrations.md): adding a provider or a destination
/// touches its folder and one registration line. These tests list every place in src/ that names an
/// integration — its type names, its namespace, its ids in string literals — and fail on any outside
/// its folder and <c>IntegrationRegistry.cs</c>. Comments may mention a tool as an example; code may not.
/// </summary>
public sealed partial class IntegrationBoundaryTests
{
    private static readonly string Src = Path.Combine(RepoRoot(), "src");
    private static readonly string Folders = Path.Combine(Src, "Junction", "Integrations");
    private static readonly string Registry = Path.Combine(Folders, "IntegrationRegistry.cs");

    [Fact]
    public void NoIntegration_IsNamedOutsideItsFolder_AndTheRegistration()
    {
        var files = Directory.EnumerateFiles(Src, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path: f, Code: CodeOnly(File.ReadAllText(f))))
            .ToList();
        var violations = new List<string>();
        foreach (var integration in IntegrationRegistry.All)
        {
            var folder = Path.Combine(Folders, integration.Name) + Path.DirectorySeparatorChar;
            var names = Names(integration, folder);
            foreach (var (path, code) in files)
            {
                if (path.StartsWith(folder, StringComparison.Ordinal) || path == Registry) continue;
                foreach (var (pattern, what) in names)
                {
                    foreach (Match m in pattern.Matches(code))
                    {
                        var line = code[..m.Index].Count(c => c == '\n') + 1;
                        violations.Add($"{Path.GetRelativePath(Src, path)}:{line}: {integration.Name} ({what})");
                    }
                }
            }
        }
        Assert.True(violations.Count == 0, "integrations named outside their folder:\n" + string.Join('\n', violations.Distinct()));
    }

    [Fact]
    public void TheCheck_FindsANameOutsideItsFolder()
    {
        // The scan itself: a Kit type in other code, an id in a literal, while a comment may mention Kit.
        var kit = IntegrationRegistry.All.Single(i => i.Name == "Kit");
        var names = Names(kit, Path.Combine(Folders, "Kit") + Path.DirectorySeparatorChar);
        var code = CodeOnly("""
            // Kit's own rules, as an example in a comment
            using Junction.Integrations.Kit;
            var c = new KitConnector(config, http, time);
            if (d.Type == "kit") return;
            var url = "https://api.kit.com/v4";
            """);
        var found = names.SelectMany(n => n.Pattern.Matches(code).Select(_ => n.What)).ToList();
        Assert.Contains("type KitConnector", found);
        Assert.Single(found, w => w == "namespace");
        Assert.Equal(2, found.Count(w => w.StartsWith("id ", StringComparison.Ordinal))); // "kit" and the URL
        var commentOnly = CodeOnly("// new KitConnector(…) for type \"kit\"\n/* Integrations.Kit */");
        Assert.Empty(names.SelectMany(n => n.Pattern.Matches(commentOnly)));
    }

    [Fact]
    public void EveryIntegration_HasItsOwnFolder_AndEveryProviderDeclaresAKnownKind()
    {
        foreach (var integration in IntegrationRegistry.All)
        {
            Assert.True(Directory.Exists(Path.Combine(Folders, integration.Name)), $"{integration.Name}: no folder src/Junction/Integrations/{integration.Name}");
            Assert.Equal($"Junction.Integrations.{integration.Name}", integration.GetType().Namespace);
            Assert.True(integration.Sources.Count > 0 || integration.Destination is not null || integration.Notifier is not null, $"{integration.Name} declares nothing");
        }
        foreach (var provider in ProviderRegistry.All)
        {
            Assert.Contains(provider.Kind, Junction.State.ProviderKinds.All);
        }
        // Every sub-folder is a registered integration: a folder nobody registered would be dead code.
        foreach (var dir in Directory.EnumerateDirectories(Folders))
        {
            Assert.Contains(IntegrationRegistry.All, i => i.Name == Path.GetFileName(dir));
        }
    }

    // What names an integration: the types declared at the top level of its folder's files, its
    // namespace, and its ids (provider name, destination and notifier types) in string literals —
    // exactly, or as a word inside a literal when the id is the tool's own name (a URL, a message).
    private static List<(Regex Pattern, string What)> Names(IIntegration integration, string folder)
    {
        var result = new List<(Regex, string)>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.cs"))
        {
            foreach (Match m in TopLevelType().Matches(File.ReadAllText(file)))
            {
                var type = m.Groups["name"].Value;
                result.Add((new Regex($@"(?<![\w.""]){Regex.Escape(type)}\b", RegexOptions.CultureInvariant), $"type {type}"));
            }
        }
        result.Add((new Regex($@"\bIntegrations\.{Regex.Escape(integration.Name)}\b", RegexOptions.CultureInvariant), "namespace"));
        IEnumerable<string?> ids = [.. integration.Sources.Select(p => p.Name), integration.Destination?.Type, integration.Notifier?.Type];
        foreach (var id in ids.OfType<string>().Distinct(StringComparer.Ordinal))
        {
            var brand = id.Equals(integration.Name, StringComparison.OrdinalIgnoreCase) && id != "webhook";
            var pattern = brand
                ? $@"""[^""\n]*(?<![A-Za-z0-9]){Regex.Escape(id)}(?![A-Za-z0-9])[^""\n]*"""
                : $@"""{Regex.Escape(id)}""";
            result.Add((new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase), $"id \"{id}\" in a string"));
        }
        return result;
    }

    /// <summary>The source with comments blanked out (kept line for line), string literals kept.</summary>
    private static string CodeOnly(string text)
    {
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 2;
                sb.Append('\n', text.AsSpan(i, end - i).Count('\n'));
                i = end;
                continue;
            }
            if (c == '@' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*@", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 2;
                sb.Append('\n', text.AsSpan(i, end - i).Count('\n'));
                i = end;
                continue;
            }
            if (c == '"')
            {
                // A literal (raw """ literals too): copied whole, so "//" inside it is not a comment.
                var quotes = 1;
                while (i + quotes < text.Length && text[i + quotes] == '"') quotes++;
                if (quotes == 2)
                {
                    sb.Append("\"\"");
                    i += 2;
                    continue;
                }
                var close = quotes >= 3 ? new string('"', quotes) : "\"";
                var j = i + quotes;
                while (j < text.Length)
                {
                    if (quotes < 3 && text[j] == '\\') { j += 2; continue; }
                    if (text.AsSpan(j).StartsWith(close, StringComparison.Ordinal)) break;
                    if (quotes < 3 && text[j] == '\n') break;
                    j++;
                }
                var stop = Math.Min(text.Length, j + close.Length);
                sb.Append(text, i, stop - i);
                i = stop;
                continue;
            }
            sb.Append(c);
            i++;
        }
        return sb.ToString();
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "src", "Junction", "Integrations"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("no src/Junction/Integrations above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^(?:(?:public|internal|sealed|static|partial|abstract|readonly|file)\s+)*(?:class|record|struct|interface|enum)\s+(?<name>[A-Za-z_]\w*)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();
}

/// <summary>The README's tables are read against the descriptors: every destination type and every provider has its row, with the declared defaults.</summary>
public sealed class IntegrationDocsTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoRootOf("README.md"), "README.md"));

    [Fact]
    public void EveryDestinationType_HasItsReadmeRow_WithItsDefaultBaseUrlAndRate()
    {
        foreach (var d in IntegrationRegistry.Destinations)
        {
            var delivery = Readme[Readme.IndexOf("### Delivery: `destinations:`", StringComparison.Ordinal)..];
            var row = delivery.Split('\n').FirstOrDefault(l => l.StartsWith($"| `{d.Type}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"README has no row for destination type {d.Type}");
            if (d.DefaultBaseUrl is { } url) Assert.Contains(url, row, StringComparison.Ordinal);
            Assert.Contains($"| {d.DefaultRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}/s", row, StringComparison.Ordinal);
            foreach (var credential in d.Credentials) Assert.Contains($"`{credential}`", row, StringComparison.Ordinal);
            foreach (var option in d.RequiredOptions) Assert.Contains($"`{option}` (required", row, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryProvider_HasItsReadmeRows()
    {
        foreach (var p in ProviderRegistry.All)
        {
            Assert.True(Readme.Split('\n').Count(l => l.StartsWith($"| `{p.Name}`", StringComparison.Ordinal) || l.Contains($", `{p.Name}` |", StringComparison.Ordinal)) >= 2,
                $"README should list provider {p.Name} in the sources table and the signatures table");
        }
    }

    private static string RepoRootOf(string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, file))) dir = dir.Parent;
        return dir?.FullName ?? throw new FileNotFoundException(file);
    }
}
