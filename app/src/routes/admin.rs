//! The operator console: `/admin` (the last day at a glance, with its chart drawn on the
//! server as SVG), `/admin/users?q=` (search by name) and `/admin/user?id=` (a user's
//! sessions and what an administrator may do to them). The host answers 404 to anyone but an
//! administrator before any of this renders.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::form::{field_error, form_error, CurrentPasswordField, FormError};
use crate::components::toast::use_toasts;
use crate::error::{AppError, Field};
use crate::lang;
use crate::models::{ConsoleOverview, ConsoleUser, ConsoleUserRow, HourView, Toast};
use crate::route_table;
use crate::routes::login::SessionSummary;
use crate::routes::NotFound;
use crate::server_fns::{
    admin_overview, admin_user, admin_users, AdminDisable, AdminEnable, AdminEndAll, AdminEndSession,
    AdminSetGroup, AdminSetLimit, ConfirmPassword,
};

/// Whether this browser may see the console. On the server, what the host's gate found
/// (`ConsoleAccess`); in the browser, whether the page it loaded was a console page (the
/// server drew the marker of [`ConsoleNav`] only for an administrator), so that hydration
/// draws what the server drew: the not-found page to everyone else.
fn console_allowed() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::console_access()
    }
    #[cfg(not(feature = "ssr"))]
    {
        thread_local! {
            static ALLOWED: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
        }
        ALLOWED.with(|allowed| {
            *allowed.get_or_init(|| {
                document()
                    .query_selector("nav[data-console]")
                    .ok()
                    .flatten()
                    .is_some()
            })
        })
    }
}

/// The console's navigation, on each of its pages; its `data-console` marks a console page
/// for [`console_allowed`].
#[component]
fn ConsoleNav() -> impl IntoView {
    let locale = lang::locale();
    view! {
        <nav class="page-actions" data-console="" aria-label=td_string!(locale, admin_title)>
            <a href=route_table::ADMIN>{td_string!(locale, admin_overview)}</a>
            <a href=route_table::ADMIN_USERS>{td_string!(locale, admin_users)}</a>
            <a href=route_table::HOME>{td_string!(locale, back_home)}</a>
        </nav>
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    if !console_allowed() {
        return view! { <NotFound/> }.into_any();
    }
    let locale = lang::locale();
    let overview = Resource::new(|| (), |_| admin_overview());
    view! {
        <Title text=lang::title(locale, td_string!(locale, admin_title))/>
        <h1>{td_string!(locale, admin_title)}</h1>
        <ConsoleNav/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, loading)}</p> }>
            {move || overview.get().map(|result| match result {
                Ok(data) => view! { <Overview data/> }.into_any(),
                Err(error) => view! { <p class="form-error" role="alert">{error.message(locale)}</p> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn Overview(data: ConsoleOverview) -> impl IntoView {
    let locale = lang::locale();
    let total = |pick: fn(&HourView) -> u64| data.hours.iter().map(pick).sum::<u64>();
    let figures = [
        (td_string!(locale, admin_logins), total(|h| h.logins)),
        (td_string!(locale, admin_kicks), total(|h| h.kicks)),
        (td_string!(locale, admin_denials), total(|h| h.denials)),
        (td_string!(locale, admin_failures), total(|h| h.failures)),
        (td_string!(locale, admin_throttled), total(|h| h.throttled)),
    ];
    let by_kind = data
        .live_by_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <section aria-labelledby="live-now">
            <h2 id="live-now">{td_string!(locale, admin_live_now)}</h2>
            <p class="big-figure">{data.live}</p>
            <p class="usage">{by_kind}</p>
        </section>
        <section aria-labelledby="last-day">
            <h2 id="last-day">{td_string!(locale, admin_last_day)}</h2>
            <dl class="figures">
                {figures
                    .into_iter()
                    .map(|(name, n)| view! { <div><dt>{name}</dt><dd>{n}</dd></div> })
                    .collect_view()}
            </dl>
            <Chart hours=data.hours/>
        </section>
    }
}

/// One line of the chart: its class, its name, and its number in an hour.
type Series = (&'static str, &'static str, fn(&HourView) -> u64);

/// The last day per hour, as lines drawn on the server (no script, nothing the CSP could
/// refuse), with a title, a description and the numbers as a table for screen readers.
#[component]
fn Chart(hours: Vec<HourView>) -> impl IntoView {
    let locale = lang::locale();
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 220.0;
    const PAD: f64 = 30.0;
    let series: [Series; 5] = [
        ("logins", td_string!(locale, admin_logins), |h| h.logins),
        ("kicks", td_string!(locale, admin_kicks), |h| h.kicks),
        ("denials", td_string!(locale, admin_denials), |h| h.denials),
        ("failures", td_string!(locale, admin_failures), |h| h.failures),
        ("throttled", td_string!(locale, admin_throttled), |h| h.throttled),
    ];
    let top = hours
        .iter()
        .flat_map(|h| series.iter().map(move |(_, _, pick)| pick(h)))
        .max()
        .unwrap_or(0)
        .max(1);
    let step = (WIDTH - 2.0 * PAD) / (hours.len().max(2) - 1) as f64;
    let x = move |i: usize| PAD + i as f64 * step;
    let y = move |n: u64| HEIGHT - PAD - (n as f64 / top as f64) * (HEIGHT - 2.0 * PAD);
    let lines = series
        .iter()
        .map(|(class, _, pick)| {
            let points = hours
                .iter()
                .enumerate()
                .map(|(i, h)| format!("{:.1},{:.1}", x(i), y(pick(h))))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline class=format!("line {class}") points=points fill="none"/> }
        })
        .collect_view();
    let labels = hours
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 6 == 0)
        .map(|(i, h)| view! { <text x=format!("{:.1}", x(i)) y=format!("{:.1}", HEIGHT - 8.0) class="axis">{h.label.clone()}</text> })
        .collect_view();
    let legend = series
        .iter()
        .map(|(class, name, _)| view! { <li><span class=format!("swatch {class}") aria-hidden="true"></span>{*name}</li> })
        .collect_view();
    let rows = hours
        .iter()
        .map(|h| {
            view! {
                <tr>
                    <th scope="row">{h.label.clone()}</th>
                    <td>{h.logins}</td><td>{h.kicks}</td><td>{h.denials}</td><td>{h.failures}</td><td>{h.throttled}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-labelledby="chart-title chart-desc"
                class="chart-svg"
            >
                <title id="chart-title">{td_string!(locale, admin_chart_title)}</title>
                <desc id="chart-desc">{td_string!(locale, admin_chart_desc, top)}</desc>
                <line class="axis-line" x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD/>
                <text x="4" y=format!("{:.1}", PAD) class="axis">{top}</text>
                {lines}
                {labels}
            </svg>
            <figcaption><ul class="legend">{legend}</ul></figcaption>
            <table class="visually-hidden">
                <caption>{td_string!(locale, admin_chart_title)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{td_string!(locale, admin_hour)}</th>
                        {series.iter().map(|(_, name, _)| view! { <th scope="col">{*name}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    if !console_allowed() {
        return view! { <NotFound/> }.into_any();
    }
    let locale = lang::locale();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let after = move || query.read().get("after");
    let found = Resource::new(move || (q(), after()), |(q, after)| admin_users(q, after));
    view! {
        <Title text=lang::title(locale, td_string!(locale, admin_users))/>
        <h1>{td_string!(locale, admin_users)}</h1>
        <ConsoleNav/>
        <Form method="GET" action=route_table::ADMIN_USERS>
            <label for="admin-q">{td_string!(locale, admin_search_label)}</label>
            <input id="admin-q" type="search" name="q" maxlength="64" prop:value=q/>
            <button type="submit">{td_string!(locale, admin_search)}</button>
        </Form>
        <Suspense fallback=move || view! { <p>{td_string!(locale, loading)}</p> }>
            {move || found.get().map(|result| match result {
                Ok(page) => {
                    let next = page.next.map(|after| {
                        format!("{}?q={}&after={}", route_table::ADMIN_USERS, encode(&q()), encode(&after))
                    });
                    view! {
                        <ul class="session-rows">
                            {page.users.into_iter().map(|user| view! { <li class="session"><UserRow user/></li> }).collect_view()}
                        </ul>
                        {next.map(|href| view! { <p><a href=href>{td_string!(locale, admin_next_page)}</a></p> })}
                    }
                        .into_any()
                }
                Err(error) => view! { <p class="form-error" role="alert">{error.message(locale)}</p> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn UserRow(user: ConsoleUserRow) -> impl IntoView {
    let locale = lang::locale();
    let href = format!("{}?id={}", route_table::ADMIN_USER, user.id);
    view! {
        <a href=href class="session-device">{user.name}</a>
        " · "
        {td_string!(locale, admin_live_sessions, count = user.live)}
        " · "
        {td_string!(locale, admin_limit, limit = user.limit, source = user.source)}
        {user.disabled.then(|| view! { " " <strong class="badge warning">{td_string!(locale, admin_disabled)}</strong> })}
    }
}

#[component]
pub fn AdminUserPage() -> impl IntoView {
    if !console_allowed() {
        return view! { <NotFound/> }.into_any();
    }
    let locale = lang::locale();
    let query = use_query_map();
    let id = move || {
        query
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let confirm = ServerAction::<ConfirmPassword>::new();
    let end = ServerAction::<AdminEndSession>::new();
    let end_all = ServerAction::<AdminEndAll>::new();
    let disable = ServerAction::<AdminDisable>::new();
    let enable = ServerAction::<AdminEnable>::new();
    let limit = ServerAction::<AdminSetLimit>::new();
    let group = ServerAction::<AdminSetGroup>::new();
    let versions = move || {
        [
            confirm.version().get(),
            end.version().get(),
            end_all.version().get(),
            disable.version().get(),
            enable.version().get(),
            limit.version().get(),
            group.version().get(),
        ]
    };
    let user = Resource::new(move || (id(), versions()), |(id, _)| admin_user(id));
    let toasts = use_toasts();
    let announce = move |result: Option<Result<Toast, AppError>>| match result {
        Some(Ok(toast)) => toasts.push(toast),
        Some(Err(error)) => toasts.push(Toast::new(
            crate::models::ToastKind::Warning,
            error.message(locale),
        )),
        None => {}
    };
    Effect::new(move |_| announce(end.value().get()));
    Effect::new(move |_| announce(end_all.value().get()));
    Effect::new(move |_| announce(disable.value().get()));
    Effect::new(move |_| announce(enable.value().get()));
    Effect::new(move |_| announce(limit.value().get()));
    Effect::new(move |_| announce(group.value().get()));
    let actions = Actions {
        confirm,
        end,
        end_all,
        disable,
        enable,
        limit,
        group,
    };
    view! {
        <Title text=lang::title(locale, td_string!(locale, admin_user_title))/>
        <h1>{td_string!(locale, admin_user_title)}</h1>
        <ConsoleNav/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, loading)}</p> }>
            {move || user.get().map(|result| match result {
                Ok(data) => view! { <UserDetail data actions/> }.into_any(),
                Err(error) => view! { <p class="form-error" role="alert">{error.message(locale)}</p> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

#[derive(Clone, Copy)]
struct Actions {
    confirm: ServerAction<ConfirmPassword>,
    end: ServerAction<AdminEndSession>,
    end_all: ServerAction<AdminEndAll>,
    disable: ServerAction<AdminDisable>,
    enable: ServerAction<AdminEnable>,
    limit: ServerAction<AdminSetLimit>,
    group: ServerAction<AdminSetGroup>,
}

#[component]
fn UserDetail(data: ConsoleUser, actions: Actions) -> impl IntoView {
    let locale = lang::locale();
    let id = data.user.id.to_string();
    let confirmed = data.confirmed;
    let sessions = data
        .live
        .into_iter()
        .map(|session| {
            let (id, seat) = (id.clone(), session.id.to_string());
            let label = td_string!(locale, sign_out_session, id = session.id).to_string();
            view! {
                <li class="session">
                    <SessionSummary session/>
                    {confirmed.then(|| view! {
                        <ActionForm action=actions.end>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="seat" value=seat/>
                            <button type="submit" class="small" aria-label=label>{td_string!(locale, sign_out)}</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    let history = data
        .history
        .into_iter()
        .map(|h| view! { <li class="session"><span class="session-device">{h.device}</span> " · " <span class="session-ip">{h.ip}</span> " " <span class="session-how">{h.how}</span></li> })
        .collect_view();
    let disabled = data.user.disabled;
    let groups = data.groups;
    let current_group = data.group.unwrap_or_default();
    let confirm_error = move || field_error(actions.confirm.value().get(), Field::CurrentPassword);
    view! {
        <h2>{data.user.name.clone()}</h2>
        <p><UserRow user=data.user.clone()/></p>
        <h3>{td_string!(locale, signed_in_now)}</h3>
        <ul class="session-rows">{sessions}</ul>
        {(!confirmed).then(|| view! {
            <ActionForm action=actions.confirm>
                <p class="hint">{td_string!(locale, admin_confirm_hint)}</p>
                <CurrentPasswordField
                    id="confirm-password"
                    name="password"
                    label=td_string!(locale, your_password)
                    error=Signal::derive(confirm_error)
                />
                <FormError message=Signal::derive(move || form_error(actions.confirm.value().get()))/>
                <button type="submit">{td_string!(locale, confirm_password_button)}</button>
            </ActionForm>
        })}
        {confirmed.then(|| {
            let (a, b, c, d) = (id.clone(), id.clone(), id.clone(), id.clone());
            view! {
                <div class="admin-actions">
                    <ActionForm action=actions.end_all>
                        <input type="hidden" name="id" value=a/>
                        <button type="submit">{td_string!(locale, admin_sign_out_all)}</button>
                    </ActionForm>
                    {if disabled {
                        view! {
                            <ActionForm action=actions.enable>
                                <input type="hidden" name="id" value=b/>
                                <button type="submit">{td_string!(locale, admin_enable)}</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <ActionForm action=actions.disable>
                                <input type="hidden" name="id" value=b/>
                                <button type="submit">{td_string!(locale, admin_disable)}</button>
                            </ActionForm>
                        }.into_any()
                    }}
                    <ActionForm action=actions.limit>
                        <input type="hidden" name="id" value=c/>
                        <label for="admin-limit">{td_string!(locale, admin_set_limit)}</label>
                        <input id="admin-limit" name="limit" maxlength="80" placeholder="default, 3, 2,phone=1, unlimited"/>
                        <button type="submit">{td_string!(locale, admin_save)}</button>
                    </ActionForm>
                    <ActionForm action=actions.group>
                        <input type="hidden" name="id" value=d/>
                        <label for="admin-group">{td_string!(locale, admin_set_group)}</label>
                        <select id="admin-group" name="group">
                            <option value="" selected=current_group.is_empty()>{td_string!(locale, admin_no_group)}</option>
                            {groups.into_iter().map(|g| {
                                let selected = g == current_group;
                                view! { <option value=g.clone() selected=selected>{g.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <button type="submit">{td_string!(locale, admin_save)}</button>
                    </ActionForm>
                </div>
            }
        })}
        <h3>{td_string!(locale, recent_history)}</h3>
        <ul class="session-rows history">{history}</ul>
    }
}
