using Junction.Canonical;
using Junction.Providers;
using Junction.State;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>
/// The sections the person-state fold and identity resolution read: <c>tags:</c>, <c>products:</c>,
/// <c>ownership:</c>, <c>identity:</c>, <c>lifecycle:</c>. Same rules as the rest of the loader:
/// every error names its key path and what was expected, and all are collected before failing.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly string[] ProductKeys = ["match", "tags_while_active", "revoke_on", "revoke_after"];
    private static readonly string[] MatchKeys = ["source", "price", "product", "sku"];
    private static readonly string[] IdentityKeys = ["email_limit", "phone_limit", "anonymous_id_limit", "junk_values"];
    private static readonly string[] LifecycleKeys = ["name", "after", "no", "delay", "for", "unless", "product", "add_tag", "emit"];

    private static Policy ReadPolicy(Reader reader, YamlMappingNode root, IReadOnlyDictionary<string, SourceConfig> sources)
    {
        var tags = ReadTags(reader, root);
        var ownership = ReadOwnership(reader, root, sources);
        var products = ReadProducts(reader, root, sources, tags, ownership);
        CheckAllowedTags(reader, sources, tags, products);
        return new Policy
        {
            Tags = tags,
            Products = products,
            Ownership = ownership,
            Identity = ReadIdentity(reader, root),
            Lifecycle = ReadLifecycle(reader, root, tags, products),
        };
    }

    private static HashSet<string> ReadTags(Reader reader, YamlMappingNode root)
    {
        var tags = new HashSet<string>(StringComparer.Ordinal);
        var list = reader.StringList(root, "tags", "tags", required: false);
        for (var i = 0; i < list.Count; i++)
        {
            var tag = list[i];
            if (tag.Length == 0) continue; // already reported
            if (tag.Length > 100 || tag.Trim().Length != tag.Length || tag.Any(char.IsControl))
            {
                reader.Error($"tags[{i}]", $"expected a tag of 1-100 characters without leading or trailing spaces; got '{tag}'");
            }
            else if (!tags.Add(tag))
            {
                reader.Error($"tags[{i}]", $"tag '{tag}' is listed twice");
            }
        }
        return tags;
    }

    private static List<ProductPolicy> ReadProducts(Reader reader, YamlMappingNode root, IReadOnlyDictionary<string, SourceConfig> sources, HashSet<string> tags, Ownership ownership)
    {
        var products = new List<ProductPolicy>();
        switch (Reader.Child(root, "products"))
        {
            case null:
                return products;
            case YamlMappingNode map:
                foreach (var (keyNode, value) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } id })
                    {
                        reader.Error("products", "expected product ids to be plain strings");
                        continue;
                    }
                    if (ReadProduct(reader, id, value, sources, tags, ownership) is { } product) products.Add(product);
                }
                return products;
            default:
                reader.Error("products", "expected a mapping of product ids to products, e.g. course-pro: { match: [...] }");
                return products;
        }
    }

    private static ProductPolicy? ReadProduct(Reader reader, string id, YamlNode node, IReadOnlyDictionary<string, SourceConfig> sources, HashSet<string> tags, Ownership ownership)
    {
        var path = $"products.{id}";
        if (!SourceIdPattern().IsMatch(id))
        {
            reader.Error(path, "a product id is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit");
        }
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, "expected a mapping with 'match' and optionally 'tags_while_active', 'revoke_on', 'revoke_after'");
            return null;
        }
        reader.RejectUnknownKeys(map, path, ProductKeys);

        var matches = new List<ProductMatch>();
        switch (Reader.Child(map, "match"))
        {
            case null:
                reader.Error($"{path}.match", "required; expected a list of { source: ID, price|product|sku: ID }");
                break;
            case YamlSequenceNode seq:
                if (seq.Children.Count == 0) reader.Error($"{path}.match", "expected at least one { source: ID, price|product|sku: ID }; got an empty list");
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    if (ReadMatch(reader, $"{path}.match[{i}]", seq.Children[i], sources, ownership) is { } m) matches.Add(m);
                }
                break;
            default:
                reader.Error($"{path}.match", "expected a list of { source: ID, price|product|sku: ID }");
                break;
        }

        var productTags = reader.StringList(map, "tags_while_active", $"{path}.tags_while_active", required: false);
        CheckVocabulary(reader, $"{path}.tags_while_active", productTags, tags);

        var revokeOn = RevokeOn.FullRefund;
        switch (reader.OptionalString(map, "revoke_on", $"{path}.revoke_on"))
        {
            case null or "full_refund":
                break;
            case "any_refund":
                revokeOn = RevokeOn.AnyRefund;
                break;
            case var other:
                reader.Error($"{path}.revoke_on", $"expected full_refund or any_refund; got '{other}'");
                break;
        }

        return new ProductPolicy
        {
            Id = id,
            Match = matches,
            TagsWhileActive = [.. productTags.Where(t => t.Length > 0)],
            RevokeOn = revokeOn,
            RevokeAfter = ReadDuration(reader, map, "revoke_after", $"{path}.revoke_after"),
        };
    }

    private static ProductMatch? ReadMatch(Reader reader, string path, YamlNode node, IReadOnlyDictionary<string, SourceConfig> sources, Ownership ownership)
    {
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, "expected { source: ID, price|product|sku: ID }");
            return null;
        }
        reader.RejectUnknownKeys(map, path, MatchKeys);
        var source = reader.OptionalString(map, "source", $"{path}.source");
        if (source is null) reader.Error($"{path}.source", "required; expected a source id from sources:");
        else if (!sources.TryGetValue(source, out var matched)) reader.Error($"{path}.source", $"source '{source}' is not in sources:");
        else if (!ownership.MayWrite(Ownership.Money, source, matched.Provider) && !ownership.MayWrite(Ownership.Access, source, matched.Provider))
        {
            // Otherwise the fold would silently ignore every order and access event this match names.
            reader.Error($"{path}.source",
                $"source '{source}' (provider {matched.Provider}) may write neither money (ownership.money: [{string.Join(", ", ownership.Owners[Ownership.Money])}]) "
                + $"nor access (ownership.access: [{string.Join(", ", ownership.Owners[Ownership.Access])}]), so this match could never grant the product; "
                + $"add '{source}' to ownership.money, or match on a payment source");
        }
        var price = reader.OptionalString(map, "price", $"{path}.price");
        var product = reader.OptionalString(map, "product", $"{path}.product");
        var sku = reader.OptionalString(map, "sku", $"{path}.sku");
        var given = new[] { price, product, sku }.Count(v => v is not null);
        if (given != 1)
        {
            reader.Error(path, given == 0 ? "expected one of price, product or sku" : "expected only one of price, product or sku");
            return null;
        }
        foreach (var (key, value) in new[] { ("price", price), ("product", product), ("sku", sku) })
        {
            if (value is { Length: 0 }) reader.Error($"{path}.{key}", "expected a non-empty id");
        }
        return source is null ? null : new ProductMatch(source, price, product, sku);
    }

    private static Ownership ReadOwnership(Reader reader, YamlMappingNode root, IReadOnlyDictionary<string, SourceConfig> sources)
    {
        var node = Reader.Child(root, "ownership");
        var defaults = Ownership.For(ProviderRegistry.Kinds);
        if (node is null) return defaults;
        if (node is not YamlMappingNode map)
        {
            reader.Error("ownership", $"expected a mapping of fields ({string.Join(", ", Ownership.Fields)}) to lists of owners");
            return defaults;
        }
        reader.RejectUnknownKeys(map, "ownership", [.. Ownership.Fields]);
        var configured = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var field in Ownership.Fields)
        {
            if (Reader.Child(map, field) is null) continue;
            var owners = reader.StringList(map, field, $"ownership.{field}", required: true);
            for (var i = 0; i < owners.Count; i++)
            {
                var owner = owners[i];
                if (owner.Length == 0) continue;
                if (!ProviderKinds.All.Contains(owner) && !ProviderRegistry.TryGet(owner, out _) && !sources.ContainsKey(owner))
                {
                    reader.Error($"ownership.{field}[{i}]",
                        $"expected a provider kind ({string.Join(", ", ProviderKinds.All)}), a provider or a source id; got '{owner}'");
                }
            }
            configured[field] = [.. owners.Where(o => o.Length > 0)];
        }
        return defaults.WithOverrides(configured);
    }

    private static IdentityPolicy ReadIdentity(Reader reader, YamlMappingNode root)
    {
        var node = Reader.Child(root, "identity");
        if (node is null) return IdentityPolicy.Default;
        if (node is not YamlMappingNode map)
        {
            reader.Error("identity", $"expected a mapping with {string.Join(", ", IdentityKeys)}");
            return IdentityPolicy.Default;
        }
        reader.RejectUnknownKeys(map, "identity", IdentityKeys);
        var d = IdentityPolicy.Default;
        return new IdentityPolicy
        {
            EmailLimit = reader.OptionalInt(map, "email_limit", "identity.email_limit", 1, 100) ?? d.EmailLimit,
            PhoneLimit = reader.OptionalInt(map, "phone_limit", "identity.phone_limit", 1, 100) ?? d.PhoneLimit,
            AnonymousIdLimit = reader.OptionalInt(map, "anonymous_id_limit", "identity.anonymous_id_limit", 1, 10_000) ?? d.AnonymousIdLimit,
            JunkValues = [.. reader.StringList(map, "junk_values", "identity.junk_values", required: false).Where(v => v.Length > 0)],
        };
    }

    private static List<LifecycleRule> ReadLifecycle(Reader reader, YamlMappingNode root, HashSet<string> tags, List<ProductPolicy> products)
    {
        var rules = new List<LifecycleRule>();
        var node = Reader.Child(root, "lifecycle");
        if (node is null) return rules;
        if (node is not YamlSequenceNode seq)
        {
            reader.Error("lifecycle", "expected a list of rules, e.g. - { name: winback, no: order.paid, for: 90d, add_tag: winback }");
            return rules;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var path = $"lifecycle[{i}]";
            if (seq.Children[i] is not YamlMappingNode map)
            {
                reader.Error(path, "expected a mapping with name, after+delay or no+for, and add_tag or emit");
                continue;
            }
            reader.RejectUnknownKeys(map, path, LifecycleKeys);
            var name = reader.OptionalString(map, "name", $"{path}.name");
            if (name is null) reader.Error($"{path}.name", "required; expected a rule name of a-z, 0-9, '-' and '_'");
            else if (!SourceIdPattern().IsMatch(name)) reader.Error($"{path}.name", $"expected 1-64 characters of a-z, 0-9, '-' and '_'; got '{name}'");
            else if (!names.Add(name)) reader.Error($"{path}.name", $"rule name '{name}' is used twice");

            var after = EventType(reader, map, "after", $"{path}.after");
            var no = EventType(reader, map, "no", $"{path}.no");
            TimeSpan? delay = null;
            if (after is not null && no is not null) reader.Error(path, "expected either 'after' (with 'delay') or 'no' (with 'for'), not both");
            else if (after is null && no is null && Reader.Child(map, "after") is null && Reader.Child(map, "no") is null)
            {
                reader.Error(path, "expected 'after: EVENT_TYPE' with 'delay', or 'no: EVENT_TYPE' with 'for'");
            }
            if (Reader.Child(map, "after") is not null)
            {
                if (Reader.Child(map, "for") is not null) reader.Error($"{path}.for", "'for' goes with 'no'; use 'delay' with 'after'");
                delay = ReadDuration(reader, map, "delay", $"{path}.delay");
                if (delay is null && Reader.Child(map, "delay") is null) reader.Error($"{path}.delay", "required with 'after'; expected a duration like 7d, 12h or 30m");
            }
            if (Reader.Child(map, "no") is not null)
            {
                if (Reader.Child(map, "delay") is not null) reader.Error($"{path}.delay", "'delay' goes with 'after'; use 'for' with 'no'");
                delay = ReadDuration(reader, map, "for", $"{path}.for");
                if (delay is null && Reader.Child(map, "for") is null) reader.Error($"{path}.for", "required with 'no'; expected a duration like 90d");
            }
            var unless = EventType(reader, map, "unless", $"{path}.unless");
            var product = reader.OptionalString(map, "product", $"{path}.product");
            if (product is not null && !products.Any(p => p.Id == product)) reader.Error($"{path}.product", $"product '{product}' is not in products:");
            var addTag = reader.OptionalString(map, "add_tag", $"{path}.add_tag");
            if (addTag is not null && !tags.Contains(addTag)) reader.Error($"{path}.add_tag", $"tag '{addTag}' is not in tags:");
            var emit = EventType(reader, map, "emit", $"{path}.emit");
            if (Reader.Child(map, "add_tag") is null && Reader.Child(map, "emit") is null) reader.Error(path, "expected 'add_tag' or 'emit' (what happens when the rule is due)");

            if (name is not null && (after ?? no) is not null && delay is not null)
            {
                rules.Add(new LifecycleRule { Name = name, After = after, No = no, Delay = delay.Value, Unless = unless, Product = product, AddTag = addTag, Emit = emit });
            }
        }
        return rules;
    }

    private static string? EventType(Reader reader, YamlMappingNode map, string key, string path)
    {
        var value = reader.OptionalString(map, key, path);
        if (value is null) return null;
        if (!EventTypes.All.Contains(value))
        {
            reader.Error(path, $"expected a canonical event type (e.g. order.paid, order.fulfilled, checkout.started); got '{value}'");
            return null;
        }
        return value;
    }

    private static TimeSpan? ReadDuration(Reader reader, YamlMappingNode map, string key, string path)
    {
        var text = reader.OptionalString(map, key, path);
        if (text is null) return null;
        if (!Durations.TryParse(text, out var value))
        {
            reader.Error(path, $"expected a duration: a whole number and s, m, h, d or w (e.g. 7d, 12h, 30m); got '{text}'");
            return null;
        }
        return value;
    }

    /// <summary>A form's allowed_tags: from the vocabulary, and never a product's (those follow the entitlement).</summary>
    private static void CheckAllowedTags(Reader reader, IReadOnlyDictionary<string, SourceConfig> sources, HashSet<string> tags, List<ProductPolicy> products)
    {
        foreach (var (id, source) in sources)
        {
            if (source.Option(SourceRules.AllowedTags) is not { } allowed) continue;
            var path = $"sources.{id}.{SourceRules.AllowedTags}";
            if (!SourceRules.IsUnauthenticated(source))
            {
                reader.Error(path, $"only sources anyone can post to (provider form) take allowed_tags; provider {source.Provider} is authenticated and may set any tag in tags:");
                continue;
            }
            var list = allowed.Split('\n').ToList();
            CheckVocabulary(reader, path, list, tags);
            for (var i = 0; i < list.Count; i++)
            {
                if (products.FirstOrDefault(p => p.TagsWhileActive.Contains(list[i], StringComparer.Ordinal)) is { } product)
                {
                    reader.Error($"{path}[{i}]", $"tag '{list[i]}' is granted by product {product.Id} (tags_while_active); only its entitlement sets it");
                }
            }
        }
    }

    private static void CheckVocabulary(Reader reader, string path, List<string> list, HashSet<string> tags)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Length > 0 && !tags.Contains(list[i])) reader.Error($"{path}[{i}]", $"tag '{list[i]}' is not in tags:");
        }
    }
}
