//! Registering a hazard and re-inspecting it: the form's content comes from the screen, the
//! ids (UUIDs), days and times from this device, and the commands from app-core
//! (`NewHazard::commands`, `NewReinspection::commands`).

use super::records::record_template;
use super::{App, now};
use app_core::hazard::{NewHazard, NewReinspection};
use app_core::ids::{HazardId, InspectionId};
use app_core::inspection::{Command, Context};
use tablet_api::{ApiResult, RecordChange};

impl App {
    /// Registers `hazard` on record `id` under a new id `hz-<UUID>`, lists a major one for
    /// supervision and orders its rectification. All or nothing: the commands are first run
    /// through the rules on a copy of the record, so a refusal (no measures, a deadline before
    /// today, …) leaves no half-registered hazard. Answers the new hazard's id.
    pub fn register_hazard(&self, id: &InspectionId, hazard: &NewHazard) -> ApiResult<HazardId> {
        self.register_hazard_change(id, hazard).map(|(hid, _)| hid)
    }

    /// [`App::register_hazard`], answering also what it changed in the record.
    pub fn register_hazard_change(
        &self,
        id: &InspectionId,
        hazard: &NewHazard,
    ) -> ApiResult<(HazardId, RecordChange)> {
        let hid = HazardId::new(format!("hz-{}", uuid::Uuid::new_v4()));
        let change = self.apply_all(id, |template, t| {
            hazard.commands(hid.clone(), template, t.shanghai_date())
        })?;
        Ok((hid, change))
    }

    /// Records `reinspection` of `hazard` under a new id `ri-<UUID>` (and closes the hazard
    /// when it passed), all or nothing.
    pub fn reinspect(
        &self,
        id: &InspectionId,
        hazard: &HazardId,
        reinspection: &NewReinspection,
    ) -> ApiResult<()> {
        self.reinspect_change(id, hazard, reinspection).map(drop)
    }

    /// [`App::reinspect`], answering what it changed in the record.
    pub fn reinspect_change(
        &self,
        id: &InspectionId,
        hazard: &HazardId,
        reinspection: &NewReinspection,
    ) -> ApiResult<RecordChange> {
        let user = self.user()?;
        let rid = format!("ri-{}", uuid::Uuid::new_v4());
        self.apply_all(id, |_, t| {
            Ok(reinspection.commands(hazard, rid.clone(), &user.id, t))
        })
    }

    /// Applies the commands `make` returns (given the record's template and the time) to
    /// record `id`, after checking that the rules accept all of them in order; answers what
    /// they changed together.
    fn apply_all(
        &self,
        id: &InspectionId,
        make: impl FnOnce(
            &app_core::checklist::ChecklistTemplate,
            app_core::geo::Timestamp,
        ) -> Result<Vec<Command>, app_core::inspection::RecordError>,
    ) -> ApiResult<RecordChange> {
        let user = self.user()?;
        let mut store = self.store();
        let ((), change) = self.edit(&mut store, id, |store, record| {
            let template = record_template(store, record)?;
            let cx = Context {
                actor: &user,
                now: now(),
                template: &template,
            };
            let commands = make(&template, cx.now)?;
            let mut check = record.clone();
            for c in &commands {
                check.apply(c, &cx)?;
            }
            for c in &commands {
                store.apply(id, c, &cx)?;
            }
            Ok(())
        })?;
        Ok(change)
    }
}
