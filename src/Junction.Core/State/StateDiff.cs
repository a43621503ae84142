namespace Junction.State;

/// <summary>
/// What changed between two states of a person, in words an operator reads on the timeline
/// ("tag +paid:course-pro", "entitlement course-pro: active → revoked"). Empty when nothing a
/// person would notice changed.
/// </summary>
public static class StateDiff
{
    public static IReadOnlyList<string> Describe(PersonState? before, PersonState after)
    {
        ArgumentNullException.ThrowIfNull(after);
        before ??= new PersonState();
        var changes = new List<string>();

        foreach (var tag in after.Tags.Except(before.Tags, StringComparer.Ordinal)) changes.Add($"tag +{tag}");
        foreach (var tag in before.Tags.Except(after.Tags, StringComparer.Ordinal)) changes.Add($"tag -{tag}");

        var was = before.Entitlements.ToDictionary(x => x.Product, StringComparer.Ordinal);
        foreach (var ent in after.Entitlements)
        {
            var old = was.GetValueOrDefault(ent.Product);
            if (old is null) changes.Add($"entitlement {ent.Product}: {ent.State}");
            else if (old.State != ent.State) changes.Add($"entitlement {ent.Product}: {old.State} → {ent.State}");
        }

        var orders = before.Orders.ToDictionary(o => (o.Source, o.OrderId));
        foreach (var order in after.Orders)
        {
            var old = orders.GetValueOrDefault((order.Source, order.OrderId));
            if (old is null) changes.Add($"order {order.OrderId}: {order.Status}");
            else if (old.Status != order.Status || old.Refunded != order.Refunded)
                changes.Add(old.Status == order.Status ? $"order {order.OrderId}: refunded {order.Refunded}" : $"order {order.OrderId}: {old.Status} → {order.Status}");
        }

        var consent = before.Consent.ToDictionary(c => c.Channel, StringComparer.Ordinal);
        foreach (var c in after.Consent)
        {
            var old = consent.GetValueOrDefault(c.Channel);
            if (old is null || old.Granted != c.Granted) changes.Add($"consent {c.Channel}: {(c.Granted ? "granted" : "withdrawn")}");
        }

        if (before.Attribution.FirstTouch is null && after.Attribution.FirstTouch is { } first)
            changes.Add($"first touch: {first.UtmSource ?? first.Referrer ?? first.Source}");
        if (after.Emails.Count != before.Emails.Count) changes.Add($"emails: {after.Emails.Count}");
        if (after.Webinars.Count != before.Webinars.Count || !after.Webinars.SequenceEqual(before.Webinars)) changes.Add("webinars changed");
        if (after.Bookings.Count != before.Bookings.Count || !after.Bookings.SequenceEqual(before.Bookings)) changes.Add("bookings changed");
        var firedBefore = before.Timers.Where(t => t.Due).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var t in after.Timers.Where(t => t.Due && !firedBefore.Contains(t.Key))) changes.Add($"timer {t.Kind} {t.Name} fired");
        foreach (var o in after.Overrides.Except(before.Overrides)) changes.Add($"override {o.Action} {o.Product}");
        return changes;
    }
}
