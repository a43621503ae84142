using Junction.Canonical;

namespace Junction.State;

/// <summary>
/// The mutable side of <see cref="PersonFold"/>: applied to events strictly in (occurred_at, id)
/// order, then read at an instant by <see cref="Snapshot"/>. Only PersonFold creates it.
/// </summary>
internal sealed class Accumulator(Policy policy)
{
    private static readonly StringComparer Ord = StringComparer.Ordinal;

    private readonly SortedSet<string> _emails = new(Ord);
    private string? _primaryEmail;
    private string? _purchaseEmail;
    private readonly Dictionary<(string Type, string Value), string?> _identifiers = [];
    private readonly Dictionary<string, ConsentState> _consent = new(Ord);
    private TouchState? _firstTouch;
    private TouchState? _lastTouch;
    private readonly Dictionary<string, bool> _providerTags = new(Ord);
    private readonly Dictionary<string, OrderAcc> _orders = new(Ord);
    private readonly Dictionary<string, AccessAcc> _access = new(Ord);
    private readonly Dictionary<string, WebinarState> _webinars = new(Ord);
    private readonly Dictionary<string, BookingState> _bookings = new(Ord);
    private readonly List<TagDrift> _drift = [];
    private readonly List<IgnoredWrite> _ignored = [];
    private readonly Dictionary<string, (DateTimeOffset At, string EventId)> _lifecycleTrigger = new(Ord);
    private readonly Dictionary<string, DateTimeOffset> _lifecycleUnless = new(Ord);
    private bool? _test;

    public void Apply(CanonicalEvent e)
    {
        // One live event makes a real person of them, whatever came before or after.
        _test = (_test ?? true) && e.TestMode;
        CollectIdentity(e);
        Touch(e);

        switch (e.Type)
        {
            case EventTypes.OrderPaid or EventTypes.OrderPending or EventTypes.PaymentFailed or EventTypes.OrderRefunded
                or EventTypes.ChargebackOpened or EventTypes.ChargebackClosed or EventTypes.SubscriptionRenewed:
                // A refused money write starts no timer either (a non-owner's order.paid does not reset winback).
                if (!Owns(Ownership.Money, e)) return;
                Money(e);
                break;
            case EventTypes.OrderFulfilled:
                if (e.Order is { } fulfilled) Order(e.Source, fulfilled.OrderId).FulfilledAt ??= e.OccurredAt;
                break;
            case EventTypes.Optin or EventTypes.Unsubscribe or EventTypes.SpamComplaint:
                if (Owns(Ownership.SubscriptionPreferences, e)) Consent(e);
                if (e.Tags.Count > 0 && Owns(Ownership.Tags, e)) ProviderTags(e, added: e.Type == EventTypes.Optin);
                break;
            case EventTypes.TagAdded or EventTypes.TagRemoved:
                if (Owns(Ownership.Tags, e)) ProviderTags(e, added: e.Type == EventTypes.TagAdded);
                break;
            case EventTypes.AccessGranted or EventTypes.AccessRevoked:
                if (e.Access is not null && Owns(Ownership.Access, e)) Access(e);
                break;
            case EventTypes.WebinarRegistered or EventTypes.WebinarAttended:
                if (e.Webinar is not null && Owns(Ownership.Webinars, e)) Webinar(e);
                break;
            case EventTypes.BookingCreated or EventTypes.BookingCanceled or EventTypes.BookingRescheduled:
                if (e.Booking is not null && Owns(Ownership.Bookings, e)) Booking(e);
                break;
        }
        Lifecycle(e);
    }

    private bool Owns(string field, CanonicalEvent e)
    {
        if (policy.Ownership.MayWrite(field, e.Source, e.Provider)) return true;
        _ignored.Add(new IgnoredWrite(field, e.Type, e.Source, e.Provider, e.Id, e.OccurredAt));
        return false;
    }

    private void CollectIdentity(CanonicalEvent e)
    {
        var s = e.Subject;
        if (s.Email is { } email)
        {
            _emails.Add(email);
            _primaryEmail = email;
            Identifier("email", email, e.Source);
            if (e.Type is EventTypes.OrderPaid or EventTypes.SubscriptionRenewed) _purchaseEmail = email;
        }
        if (e.Type == EventTypes.EmailChanged && s.PreviousEmail is { } previous)
        {
            _emails.Add(previous);
            Identifier("email", previous, e.Source);
        }
        if (s.CustomerId is { } customer) Identifier("customer_id", customer, e.Source);
        if (s.Phone is { } phone) Identifier("phone", phone, e.Source);
        if (s.PurchaseToken is { } token) Identifier("purchase_token", token, e.Source);
        if (s.AnonymousId is { } anonymous) Identifier("anonymous_id", anonymous, e.Source);
        if (e.Order is { } order) Identifier("order_id", order.OrderId, e.Source);
    }

    // The first source that showed an identifier is kept (events come in sorted order).
    private void Identifier(string type, string value, string source) => _identifiers.TryAdd((type, value), source);

    private void Touch(CanonicalEvent e)
    {
        if (_firstTouch is null && (e.FirstTouch ?? e.Attribution) is { IsEmpty: false } first)
        {
            _firstTouch = ToTouch(first, e);
        }
        if (e.Attribution is { IsEmpty: false } last) _lastTouch = ToTouch(last, e);
    }

    private static TouchState ToTouch(Attribution a, CanonicalEvent e) => new()
    {
        UtmSource = a.UtmSource, UtmMedium = a.UtmMedium, UtmCampaign = a.UtmCampaign, UtmTerm = a.UtmTerm,
        UtmContent = a.UtmContent, Referrer = a.Referrer, LandingPage = a.LandingPage,
        At = e.OccurredAt.ToUniversalTime(), Source = e.Source, EventId = e.Id,
    };

    private void Lifecycle(CanonicalEvent e)
    {
        foreach (var rule in policy.Lifecycle)
        {
            // An imported opt-in is years old: it is history, not a reason to welcome anyone now.
            if (!e.Historical && string.Equals(rule.TriggerType, e.Type, StringComparison.Ordinal) && MatchesProduct(rule, e))
            {
                _lifecycleTrigger[rule.Name] = (e.OccurredAt.ToUniversalTime(), e.Id);
            }
            if (rule.Unless is not null && string.Equals(rule.Unless, e.Type, StringComparison.Ordinal))
            {
                _lifecycleUnless[rule.Name] = e.OccurredAt.ToUniversalTime();
            }
        }
    }

    private bool MatchesProduct(LifecycleRule rule, CanonicalEvent e)
    {
        if (rule.Product is null) return true;
        var product = policy.Products.FirstOrDefault(p => string.Equals(p.Id, rule.Product, StringComparison.Ordinal));
        if (product is null) return false;
        if (e.Order is { } order)
        {
            var items = order.Items.Count > 0 ? order.Items
                : _orders.TryGetValue(OrderKey(e.Source, order.OrderId), out var known) ? known.Items : [];
            return items.Any(i => product.Matches(e.Source, i));
        }
        return e.Access is { } access && product.MatchesAccess(e.Source, access.ProductId);
    }

    // ---- money ----

    private static string OrderKey(string source, string orderId) => source + "\n" + orderId;

    private OrderAcc Order(string source, string orderId)
    {
        var key = OrderKey(source, orderId);
        if (!_orders.TryGetValue(key, out var acc))
        {
            acc = new OrderAcc(source, orderId);
            _orders[key] = acc;
        }
        return acc;
    }

    private void Money(CanonicalEvent e)
    {
        if (e.Order is not { } info) return;
        var o = Order(e.Source, info.OrderId);
        var paid = e.Type is EventTypes.OrderPaid or EventTypes.SubscriptionRenewed;
        // Amount, currency and items: the paid event's values win over intent's.
        if (info.Amount is { } amount && (paid || !o.AmountFromPaid))
        {
            o.Amount = amount;
            o.AmountFromPaid |= paid;
        }
        if (info.Currency is { } currency && (paid || o.Currency is null)) o.Currency = currency;
        if (info.Items.Count > 0 && (paid || o.Items.Count == 0)) o.Items = info.Items;

        switch (e.Type)
        {
            case EventTypes.OrderPaid or EventTypes.SubscriptionRenewed:
                o.PaidAt ??= e.OccurredAt.ToUniversalTime();
                break;
            case EventTypes.OrderPending:
                o.Pending = true;
                break;
            case EventTypes.PaymentFailed:
                o.Failed = true;
                break;
            case EventTypes.OrderRefunded:
                // One refund reported twice (refund.created and charge.refunded) counts once by its id;
                // cumulative totals (Stripe's amount_refunded) are taken as a floor.
                if (info.RefundAmount is { } refund) o.Refunds[info.RefundId ?? "event:" + e.Id] = refund;
                if (o.RefundedAt is not { } seen || e.OccurredAt > seen) o.RefundedAt = e.OccurredAt.ToUniversalTime();
                if (info.RefundedTotal is { } total && total > o.MaxRefundedTotal) o.MaxRefundedTotal = total;
                if (info.FullyRefunded == true) o.FullyRefundedFlag = true;
                if (info.RefundAmount is null && info.RefundedTotal is null && info.FullyRefunded is null) o.FullyRefundedFlag = true;
                break;
            case EventTypes.ChargebackOpened or EventTypes.ChargebackClosed:
                var id = e.Chargeback?.DisputeId ?? "event:" + e.Id;
                if (!o.Disputes.TryGetValue(id, out var d)) o.Disputes[id] = d = new DisputeAcc();
                if (e.Type == EventTypes.ChargebackOpened) d.Opened = true;
                else
                {
                    d.Closed = true;
                    d.Outcome = e.Chargeback?.Outcome?.ToLowerInvariant() switch
                    {
                        "lost" => "lost",
                        "won" => "won",
                        _ => d.Outcome,
                    };
                }
                break;
        }

        var at = e.OccurredAt.ToUniversalTime();
        if (o.IsFullyRefunded || o.Lost) o.FullRevokeAt ??= at;
        if (o.Refunded > 0 || o.IsFullyRefunded || o.Lost) o.AnyRevokeAt ??= at;
        o.FullRevokeReason ??= o.FullRevokeAt is null ? null : o.Lost ? "chargeback_lost" : "full_refund";
        o.AnyRevokeReason ??= o.AnyRevokeAt is null ? null : o.Lost ? "chargeback_lost" : o.IsFullyRefunded ? "full_refund" : "refund";
    }

    // ---- consent, tags, access, webinars, bookings ----

    private void Consent(CanonicalEvent e)
    {
        var withdraw = e.Type is EventTypes.Unsubscribe or EventTypes.SpamComplaint;
        var restricted = policy.RulesFor(e.Source, e.Provider);
        // An opt-in without consent items means "subscribed" from a provider, but a form post
        // without the box ticked is no change.
        if (restricted is not null && e.Consent.Count == 0) return;
        IReadOnlyList<ConsentInfo> items = e.Consent.Count > 0 ? e.Consent : [new ConsentInfo { Channel = "email", Granted = !withdraw }];
        foreach (var c in items)
        {
            var channel = c.Channel.ToLowerInvariant();
            var granted = !withdraw && c.Granted;
            // Anyone can post a form with someone else's address: its "no" is no change unless the
            // source allows withdrawal, and its "yes" waits for the email platform under double opt-in.
            // A test person's own test "no" is a smoke run cleaning up: there is no real subscriber to protect.
            if (restricted is not null && !granted && !restricted.AllowWithdraw && _test is not true)
            {
                _ignored.Add(new IgnoredWrite(Ownership.SubscriptionPreferences, e.Type, e.Source, e.Provider, e.Id, e.OccurredAt));
                continue;
            }
            var confirmed = restricted is { DoubleOptIn: true } && granted ? false : c.Confirmed;
            var state = new ConsentState
            {
                Channel = channel,
                Granted = granted,
                Source = c.Source ?? e.Source,
                At = (c.At ?? e.OccurredAt).ToUniversalTime(),
                Wording = c.Wording,
                Version = c.Version,
                Confirmed = confirmed,
                EventId = e.Id,
            };
            var exists = _consent.TryGetValue(channel, out var current);
            // An unconfirmed grant never undoes a grant already standing (a repeated double opt-in form post).
            if (exists && state.Granted && state.Confirmed == false && current!.Granted && current.Confirmed != false) continue;
            // Latest by the consent's own time wins; ties go to the greater event id.
            if (!exists
                || state.At > current!.At
                || (state.At == current.At && string.CompareOrdinal(state.EventId, current.EventId) > 0))
            {
                _consent[channel] = state;
            }
        }
    }

    private void ProviderTags(CanonicalEvent e, bool added)
    {
        var restricted = policy.RulesFor(e.Source, e.Provider);
        foreach (var tag in e.Tags)
        {
            var refused = !policy.Tags.Contains(tag) ? TagDriftReasons.NotInVocabulary
                // A product's tags follow its entitlement: no provider event sets or clears them (a
                // form could grant them to anyone, an email platform's echo would outlive a refund).
                : policy.ProductGranting(tag) is not null ? TagDriftReasons.ProductGranted
                : restricted is not null && !restricted.AllowedTags.Contains(tag) ? TagDriftReasons.NotAllowedForSource
                : null;
            if (refused is null) _providerTags[tag] = added;
            else _drift.Add(new TagDrift(tag, added ? "add" : "remove", e.Source, e.Id, e.OccurredAt.ToUniversalTime(), refused));
        }
    }

    private void Access(CanonicalEvent e)
    {
        var access = e.Access!;
        var key = e.Source + "\n" + access.ProductId;
        _access[key] = new AccessAcc(e.Source, access.ProductId, e.Type == EventTypes.AccessGranted, e.OccurredAt.ToUniversalTime(), access.Reason);
    }

    private void Webinar(CanonicalEvent e)
    {
        var w = e.Webinar!;
        var key = w.WebinarId + "\n" + w.OccurrenceId;
        var current = _webinars.TryGetValue(key, out var found) ? found : new WebinarState { WebinarId = w.WebinarId, OccurrenceId = w.OccurrenceId };
        var at = e.OccurredAt.ToUniversalTime();
        current = current with
        {
            Topic = w.Topic ?? current.Topic,
            StartsAt = w.StartsAt?.ToUniversalTime() ?? current.StartsAt,
        };
        if (e.Type == EventTypes.WebinarRegistered)
        {
            current = current with { RegisteredAt = current.RegisteredAt ?? at };
        }
        else
        {
            current = current with
            {
                AttendedAt = current.AttendedAt ?? (w.JoinedAt?.ToUniversalTime() ?? at),
                // Live attendance outranks a recording view; a longer stay outranks a shorter one.
                Attendance = current.Attendance == "live" ? "live" : w.Attendance ?? current.Attendance,
                DurationSeconds = Max(current.DurationSeconds, w.DurationSeconds),
            };
        }
        _webinars[key] = current;
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private void Booking(CanonicalEvent e)
    {
        var b = e.Booking!;
        var at = e.OccurredAt.ToUniversalTime();
        var current = _bookings.TryGetValue(b.BookingId, out var found) ? found : new BookingState { BookingId = b.BookingId, Status = "scheduled" };
        current = current with
        {
            EventType = b.EventType ?? current.EventType,
            Name = b.Name ?? current.Name,
            StartsAt = b.StartsAt?.ToUniversalTime() ?? current.StartsAt,
            EndsAt = b.EndsAt?.ToUniversalTime() ?? current.EndsAt,
            RescheduledFrom = b.RescheduledFrom ?? current.RescheduledFrom,
            RescheduledTo = b.RescheduledTo ?? current.RescheduledTo,
        };
        current = e.Type switch
        {
            EventTypes.BookingCreated => current with { CreatedAt = current.CreatedAt ?? at },
            EventTypes.BookingCanceled => current with
            {
                Status = b.RescheduledTo is not null || current.Status == "rescheduled" ? "rescheduled" : "canceled",
                CanceledAt = current.CanceledAt ?? at,
                CancelReason = b.CancelReason ?? current.CancelReason,
            },
            _ => current with { CreatedAt = current.CreatedAt ?? at },
        };
        _bookings[b.BookingId] = current;
        // The booking a reschedule replaced is no longer scheduled.
        if (e.Type == EventTypes.BookingRescheduled && b.RescheduledFrom is { } from && from != b.BookingId)
        {
            var old = _bookings.TryGetValue(from, out var prior) ? prior : new BookingState { BookingId = from, Status = "rescheduled" };
            _bookings[from] = old with { Status = "rescheduled", RescheduledTo = b.BookingId };
        }
    }

    // ---- reading ----

    public PersonState Snapshot(DateTimeOffset asOf, IEnumerable<OperatorOverride> overrides)
    {
        var timers = new List<TimerState>();
        var entitlements = Entitlements(asOf, overrides, timers, out var activeOverrides);

        var tags = new SortedSet<string>(Ord);
        foreach (var (tag, present) in _providerTags)
        {
            if (present) tags.Add(tag);
        }
        foreach (var ent in entitlements)
        {
            if (ent.State is EntitlementStates.Active or EntitlementStates.PendingRevocation
                && policy.Products.FirstOrDefault(p => p.Id == ent.Product) is { } product)
            {
                foreach (var t in product.TagsWhileActive) tags.Add(t);
            }
        }
        foreach (var rule in policy.Lifecycle)
        {
            if (!_lifecycleTrigger.TryGetValue(rule.Name, out var trigger)) continue;
            if (rule.Unless is not null && _lifecycleUnless.TryGetValue(rule.Name, out var unlessAt) && unlessAt > trigger.At) continue;
            var due = trigger.At + rule.Delay;
            var timer = new TimerState
            {
                Key = $"lifecycle:{rule.Name}:{trigger.EventId}",
                Kind = "lifecycle",
                Name = rule.Name,
                DueAt = due,
                Due = due <= asOf,
                AddTag = rule.AddTag,
                Emit = rule.Emit,
                EventId = trigger.EventId,
            };
            timers.Add(timer);
            if (timer.Due && rule.AddTag is { } add) tags.Add(add);
        }
        tags.IntersectWith(policy.Tags);

        return new PersonState
        {
            Emails = [.. _emails],
            PrimaryEmail = _primaryEmail,
            PurchaseEmail = _purchaseEmail,
            Identifiers = [.. _identifiers.Select(kv => new IdentifierState(kv.Key.Type, kv.Key.Value, kv.Value))
                .OrderBy(i => i.Type, Ord).ThenBy(i => i.Value, Ord)],
            Consent = [.. _consent.Values.OrderBy(c => c.Channel, Ord)],
            Attribution = new AttributionState { FirstTouch = _firstTouch, LastTouch = _lastTouch },
            Tags = [.. tags],
            Entitlements = entitlements,
            Orders = [.. _orders.Values.OrderBy(o => o.Source, Ord).ThenBy(o => o.OrderId, Ord).Select(o => o.ToState())],
            Derived = Derived(),
            Webinars = [.. _webinars.Values.OrderBy(w => w.WebinarId, Ord).ThenBy(w => w.OccurrenceId, Ord)],
            Bookings = [.. _bookings.Values.OrderBy(b => b.BookingId, Ord)],
            Timers = [.. timers.OrderBy(t => t.Key, Ord)],
            TagDrift = [.. _drift],
            IgnoredWrites = [.. _ignored],
            Overrides = activeOverrides,
            Test = _test is true,
        };
    }

    private List<EntitlementState> Entitlements(DateTimeOffset asOf, IEnumerable<OperatorOverride> overrides,
        List<TimerState> timers, out List<OverrideState> activeOverrides)
    {
        var latestOverride = new Dictionary<string, OperatorOverride>(Ord);
        foreach (var o in overrides)
        {
            if (!latestOverride.TryGetValue(o.Product, out var current)
                || o.At > current.At || (o.At == current.At && string.CompareOrdinal(o.Id, current.Id) > 0))
            {
                latestOverride[o.Product] = o;
            }
        }
        activeOverrides = [.. latestOverride.Values
            .Where(o => o.Action != OverrideActions.Clear)
            .OrderBy(o => o.Product, Ord)
            .Select(o => new OverrideState(o.Product, o.Action, o.Reason, o.At.ToUniversalTime(), o.Id))];

        var result = new List<EntitlementState>();
        var products = policy.Products.Select(p => p.Id).Concat(latestOverride.Keys).Distinct(Ord).Order(Ord);
        foreach (var productId in products)
        {
            var product = policy.Products.FirstOrDefault(p => p.Id == productId);
            var contributions = new List<Contribution>();
            if (product is not null)
            {
                foreach (var (key, o) in _orders.OrderBy(kv => kv.Key, Ord))
                {
                    if (o.PaidAt is not { } paidAt || !o.Items.Any(i => product.Matches(o.Source, i))) continue;
                    var any = product.RevokeOn == RevokeOn.AnyRefund;
                    var triggerAt = any ? o.AnyRevokeAt : o.FullRevokeAt;
                    var reason = (any ? o.AnyRevokeReason : o.FullRevokeReason) + " of order " + o.OrderId;
                    // A refund dated before the payment still revokes it, from the payment on.
                    if (triggerAt is { } t && t < paidAt) triggerAt = paidAt;
                    if (triggerAt is null)
                    {
                        contributions.Add(new Contribution(EntitlementStates.Active, paidAt, null, null, null));
                        continue;
                    }
                    var effective = triggerAt.Value + (product.RevokeAfter ?? TimeSpan.Zero);
                    if (product.RevokeAfter is not null)
                    {
                        timers.Add(new TimerState
                        {
                            Key = $"revocation:{product.Id}:{o.Source}:{o.OrderId}",
                            Kind = "revocation",
                            Name = product.Id,
                            DueAt = effective,
                            Due = effective <= asOf,
                            EventId = o.OrderId,
                        });
                    }
                    contributions.Add(asOf < effective
                        ? new Contribution(EntitlementStates.PendingRevocation, paidAt, null, effective, reason)
                        : new Contribution(EntitlementStates.Revoked, paidAt, effective, null, reason));
                }
                foreach (var (_, a) in _access.OrderBy(kv => kv.Key, Ord))
                {
                    if (!product.MatchesAccess(a.Source, a.ProductId)) continue;
                    contributions.Add(a.Granted
                        ? new Contribution(EntitlementStates.Active, a.At, null, null, null)
                        : new Contribution(EntitlementStates.Revoked, null, a.At, null, "access revoked by " + a.Source + (a.Reason is null ? "" : ": " + a.Reason)));
                }
            }

            var derived = Combine(productId, contributions);
            if (latestOverride.TryGetValue(productId, out var ov) && ov.Action != OverrideActions.Clear)
            {
                var at = ov.At.ToUniversalTime();
                derived = ov.Action == OverrideActions.Grant
                    ? new EntitlementState { Product = productId, State = EntitlementStates.Active, GrantedAt = derived?.GrantedAt ?? at, Reason = ov.Reason, Override = true }
                    : new EntitlementState { Product = productId, State = EntitlementStates.Revoked, GrantedAt = derived?.GrantedAt, RevokedAt = at, Reason = ov.Reason, Override = true };
            }
            if (derived is not null) result.Add(derived);
        }
        return result;
    }

    private sealed record Contribution(string State, DateTimeOffset? GrantedAt, DateTimeOffset? RevokedAt, DateTimeOffset? RevokesAt, string? Reason);

    private static EntitlementState? Combine(string product, List<Contribution> contributions)
    {
        if (contributions.Count == 0) return null;
        var granted = contributions.Where(c => c.GrantedAt is not null).Select(c => c.GrantedAt).Min();
        var active = contributions.Where(c => c.State == EntitlementStates.Active).ToList();
        if (active.Count > 0)
        {
            return new EntitlementState { Product = product, State = EntitlementStates.Active, GrantedAt = active.Min(c => c.GrantedAt) };
        }
        var pending = contributions.Where(c => c.State == EntitlementStates.PendingRevocation)
            .OrderByDescending(c => c.RevokesAt).ThenBy(c => c.Reason, Ord).FirstOrDefault();
        if (pending is not null)
        {
            return new EntitlementState { Product = product, State = EntitlementStates.PendingRevocation, GrantedAt = granted, RevokesAt = pending.RevokesAt, Reason = pending.Reason };
        }
        var revoked = contributions.OrderByDescending(c => c.RevokedAt).ThenBy(c => c.Reason, Ord).First();
        return new EntitlementState { Product = product, State = EntitlementStates.Revoked, GrantedAt = granted, RevokedAt = revoked.RevokedAt, Reason = revoked.Reason };
    }

    private DerivedState Derived()
    {
        var paid = _orders.Values.Where(o => o.PaidAt is not null)
            .OrderBy(o => o.PaidAt).ThenBy(o => o.Source, Ord).ThenBy(o => o.OrderId, Ord).ToList();
        var totals = new SortedDictionary<string, (long Spent, long Refunded)>(Ord);
        foreach (var o in paid)
        {
            var currency = o.Currency ?? "XXX";
            var amount = o.Amount ?? 0;
            var back = o.Lost ? amount : Math.Min(o.Refunded, amount);
            totals.TryGetValue(currency, out var t);
            totals[currency] = (t.Spent + amount, t.Refunded + back);
        }
        return new DerivedState
        {
            OrderCount = paid.Count,
            FirstOrderAt = paid.Count > 0 ? paid[0].PaidAt : null,
            LastOrderAt = paid.Count > 0 ? paid[^1].PaidAt : null,
            FirstOrderSku = paid.Count > 0 ? paid[0].Sku : null,
            LastOrderSku = paid.Count > 0 ? paid[^1].Sku : null,
            BuyerStatus = paid.Count switch { 0 => "none", 1 => "new", _ => "returning" },
            Totals = [.. totals.Select(kv => new CurrencyTotals(kv.Key, kv.Value.Spent, kv.Value.Refunded, kv.Value.Spent - kv.Value.Refunded))],
        };
    }

    private sealed record AccessAcc(string Source, string ProductId, bool Granted, DateTimeOffset At, string? Reason);

    private sealed class DisputeAcc
    {
        public bool Opened;
        public bool Closed;
        public string? Outcome;
    }

    private sealed class OrderAcc(string source, string orderId)
    {
        public string Source { get; } = source;
        public string OrderId { get; } = orderId;
        public long? Amount;
        public bool AmountFromPaid;
        public string? Currency;
        public IReadOnlyList<OrderItem> Items = [];
        public DateTimeOffset? PaidAt;
        public DateTimeOffset? FulfilledAt;
        public DateTimeOffset? RefundedAt;
        public bool Pending;
        public bool Failed;
        public readonly Dictionary<string, long> Refunds = new(StringComparer.Ordinal);
        public long MaxRefundedTotal;
        public bool FullyRefundedFlag;
        public readonly Dictionary<string, DisputeAcc> Disputes = new(StringComparer.Ordinal);
        public DateTimeOffset? FullRevokeAt;
        public DateTimeOffset? AnyRevokeAt;
        public string? FullRevokeReason;
        public string? AnyRevokeReason;

        public long Refunded
        {
            get
            {
                long sum = 0;
                foreach (var r in Refunds.Values) sum += r;
                var refunded = Math.Max(sum, MaxRefundedTotal);
                if (Amount is { } amount)
                {
                    if (FullyRefundedFlag) return amount;
                    return Math.Min(refunded, amount);
                }
                return refunded;
            }
        }

        public bool IsFullyRefunded => FullyRefundedFlag || (Amount is { } a && a > 0 && Refunded >= a);

        public bool Lost => Disputes.Values.Any(d => d.Outcome == "lost");

        public string? Sku => Items.Count == 0 ? null : Items[0].Sku ?? Items[0].PriceId ?? Items[0].ProductId;

        public string Status =>
            Lost ? OrderStatuses.ChargebackLost
            : Disputes.Values.Any(d => d.Opened && !d.Closed) ? OrderStatuses.Disputed
            : IsFullyRefunded ? OrderStatuses.Refunded
            : Refunded > 0 ? OrderStatuses.PartiallyRefunded
            : Disputes.Values.Any(d => d.Outcome == "won") ? OrderStatuses.ChargebackWon
            : PaidAt is not null ? OrderStatuses.Paid
            : Failed ? OrderStatuses.Failed
            : OrderStatuses.Pending;

        public OrderState ToState() => new()
        {
            OrderId = OrderId,
            Source = Source,
            Status = Status,
            Currency = Currency,
            Amount = Amount,
            Refunded = Refunded,
            Items = [.. Items.Select(i => new OrderItemState(i.Sku, i.ProductId, i.PriceId, i.Name, i.Quantity, i.Amount))],
            PaidAt = PaidAt,
            FulfilledAt = FulfilledAt,
            RefundedAt = RefundedAt,
        };
    }
}
