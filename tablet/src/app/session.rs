//! Signing in, the home screen and the people on it.

use super::{App, SESSION_KEY, now};
use crate::store::{InspectionRow, ListFilter};
use crate::sync::SyncClient;
use app_core::enterprise::Enterprise;
use app_core::ids::HazardId;
use app_core::inspection::InspectionStatus;
use app_core::plan::Plan;
use app_core::user::User;
use tablet_api::{
    ApiError, ApiResult, ErrorCode, HazardDue, Home, PlanInspection, PlanView, ReturnedView,
};

impl App {
    /// Signs in online, registers the device, fetches the reference data and keeps the
    /// session, so that from now on the app works without a network.
    pub fn sign_in(&self, user: &str, password: &str) -> ApiResult<User> {
        if user.trim().is_empty() {
            return Err(
                ApiError::new(ErrorCode::Input, "请输入用户名", "user name is empty").at("user"),
            );
        }
        if password.is_empty() {
            return Err(
                ApiError::new(ErrorCode::Input, "请输入密码", "password is empty").at("password"),
            );
        }
        let mut client = SyncClient::new(&self.server);
        let session = {
            let store = self.store();
            client.sign_in(user.trim(), password, &store)?.clone()
        };
        client.fetch_reference(&self.store)?;
        self.store().set_meta(
            SESSION_KEY,
            &serde_json::to_string(&session).map_err(super::errors::bad_args)?,
        )?;
        // Replace any earlier background sync.
        self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // Document numbers for the work ahead, which may be offline. Sign-in stands even if
        // this fails: the background keeps trying, and the sync screen shows why.
        let _ = self.top_up_numbers(&session);
        let user = session.user.clone();
        self.start_session(session);
        Ok(user)
    }

    /// The records of `enterprise` this tablet holds, last changed first (at most 50).
    pub fn enterprise_records(
        &self,
        enterprise: &app_core::ids::EnterpriseId,
    ) -> ApiResult<Vec<InspectionRow>> {
        Ok(self.store().list(&ListFilter {
            enterprise: Some(enterprise.clone()),
            limit: 50,
            ..ListFilter::default()
        })?)
    }

    pub fn home(&self) -> ApiResult<Home> {
        let user = self.user()?;
        let mut store = self.store();
        let enterprises = store.reference::<Enterprise>()?;
        let plans = store
            .reference::<Plan>()?
            .into_iter()
            .filter(|p| p.assigned.contains(&user.id))
            .map(|plan| PlanView {
                enterprise: enterprises
                    .iter()
                    .find(|e| e.id == plan.enterprise)
                    .cloned(),
                plan,
                inspection: None,
            })
            .collect::<Vec<_>>();
        let mine = store.inspections_of(&user.id)?;
        let records: Vec<InspectionRow> = store
            .list(&ListFilter {
                limit: 500,
                ..ListFilter::default()
            })?
            .into_iter()
            .filter(|r| mine.contains(&r.id))
            .collect();
        // Each plan's inspection: among my records of the plan's enterprise (by name, from
        // the index), the one whose record names the plan.
        let mut plans = plans;
        for p in plans.iter_mut() {
            let Some(name) = p.enterprise.as_ref().map(|e| e.name.clone()) else {
                continue;
            };
            for r in records.iter().filter(|r| r.enterprise_name == name) {
                if store.inspection(&r.id)?.plan.as_ref() == Some(&p.plan.id) {
                    p.inspection = Some(PlanInspection {
                        id: r.id.clone(),
                        status: r.status,
                    });
                    break;
                }
            }
        }
        let mut returned = Vec::new();
        for r in records
            .iter()
            .filter(|r| r.status == InspectionStatus::Returned)
        {
            let record = store.inspection(&r.id)?;
            if let Some(review) = record.review {
                returned.push(ReturnedView {
                    id: r.id.clone(),
                    enterprise_name: r.enterprise_name.clone(),
                    comment: review.comment,
                    by: review.by,
                });
            }
        }
        // Open hazards due within the coming month (and overdue ones).
        let today = now().shanghai_date();
        let mut hazards = Vec::new();
        for row in store.hazards_due(today.plus_days(31))? {
            if !mine.contains(&row.inspection_id) {
                continue;
            }
            let record = store.inspection(&row.inspection_id)?;
            let description = record
                .hazards
                .get(&HazardId::new(row.hazard_id.clone()))
                .map(|h| h.description.clone())
                .unwrap_or_default();
            hazards.push(HazardDue {
                enterprise_name: record.enterprise.name.clone(),
                description,
                row,
            });
        }
        drop(store);
        Ok(Home {
            user,
            plans,
            records,
            returned,
            hazards,
            sync: self.sync_status(),
        })
    }

    /// Inspectors of the user's unit other than the user (the co-inspector picker).
    pub fn colleagues(&self) -> ApiResult<Vec<User>> {
        let user = self.user()?;
        Ok(self
            .store()
            .reference::<User>()?
            .into_iter()
            .filter(|u| u.is_inspector() && u.unit == user.unit && u.id != user.id)
            .collect())
    }
}
